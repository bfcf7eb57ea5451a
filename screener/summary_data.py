"""What the summary counts, read from the store: numbers and times only.

Nothing here reads a message's text, subject or sender address; the query
below selects only the columns the counts need. A message's time is the date
it was sent when that is readable and not later than when screener got it,
otherwise when screener got it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from screener.timeutil import iso, parse_iso, utcnow

GAP = timedelta(minutes=15)   # heartbeats further apart than this are a gap (the daemon beats every minute or so)
MIN_WEEKS, MAX_WEEKS = 8, 26


@dataclass
class Daemon:
    """Whether the background screener ran through the period."""

    ever: bool = False
    running: bool = False
    since: datetime | None = None          # start of the current unbroken stretch
    last_seen: datetime | None = None
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)


@dataclass
class SummaryData:
    start: datetime | None                 # None: since the beginning
    end: datetime
    screened: int = 0
    delivered: int = 0
    held: int = 0
    unreadable: int = 0
    held_older: int = 0                    # held in the period but sent before it (caught up, imported)
    by_channel: Counter = field(default_factory=Counter)
    by_person: Counter = field(default_factory=Counter)
    no_person: int = 0
    by_status: Counter = field(default_factory=Counter)
    by_tactic: Counter = field(default_factory=Counter)
    untagged: int = 0
    weeks: list[tuple[date, int]] = field(default_factory=list)   # (Monday, held messages sent that week)
    alerts: int = 0
    alerts_told: int = 0
    alert_routes: bool = False
    released: int = 0
    releases_waiting: int = 0
    attention: int = 0
    daemon: Daemon = field(default_factory=Daemon)


def alert_routes_configured(config) -> bool:
    a = config.alerts
    return bool((a.smtp_host and a.friend_emails) or a.webhook_url)


def gather(config, store, since: timedelta | None, now: datetime | None = None) -> SummaryData:
    end = now or utcnow()
    start = end - since if since is not None else None
    data = SummaryData(start=start, end=end, alert_routes=alert_routes_configured(config))
    rows = store.conn.execute(
        "SELECT id, channel, date, received_at, action, alert, sender_status, blocked_person, tags "
        "FROM messages").fetchall()
    held_times, alerted = [], []
    for row in rows:
        received = parse_iso(row["received_at"]) or end
        when = message_time(row["date"], received)
        held = row["action"] == "quarantine"
        if held:
            held_times.append(when)
        if start is not None and when < start:
            if held and received >= start:
                data.held_older += 1
            continue
        data.screened += 1
        if row["action"] is None:
            data.unreadable += 1
            continue
        if row["alert"]:
            alerted.append(row["id"])
        if not held:
            data.delivered += 1
            continue
        data.held += 1
        data.by_channel[row["channel"]] += 1
        if row["blocked_person"]:
            data.by_person[row["blocked_person"]] += 1
        else:
            data.no_person += 1
        data.by_status[row["sender_status"]] += 1
        tags = json.loads(row["tags"] or "[]")
        data.by_tactic.update(tags)
        data.untagged += not tags
    data.alerts = len(alerted)
    if alerted:
        told = {r[0] for r in store.conn.execute(
            "SELECT DISTINCT message FROM alerts WHERE status = 'sent' AND message IS NOT NULL")}
        data.alerts_told = sum(1 for m in alerted if m in told)
    data.weeks = weekly(held_times, start, end)
    _releases(store, data)
    data.daemon = daemon_status(store, start, end)
    return data


def message_time(sent: str | None, received: datetime) -> datetime:
    when = parse_iso(sent)
    if when is None or when > received + timedelta(days=1):
        return received
    return when


def monday(when: datetime | date) -> date:
    d = when.date() if isinstance(when, datetime) else when
    return d - timedelta(days=d.weekday())


def weekly(times: list[datetime], start: datetime | None, end: datetime) -> list[tuple[date, int]]:
    last = monday(end)
    first = monday(start) if start is not None else (monday(min(times)) if times else last)
    count = (last - first).days // 7 + 1
    count = max(MIN_WEEKS, min(MAX_WEEKS, count))
    first = last - timedelta(weeks=count - 1)
    per = Counter(monday(t) for t in times)
    return [(first + timedelta(weeks=i), per.get(first + timedelta(weeks=i), 0)) for i in range(count)]


def _releases(store, data: SummaryData) -> None:
    start = iso(data.start) if data.start else ""
    data.released = store.conn.execute(
        "SELECT COUNT(DISTINCT message) FROM releases WHERE status = 'done' AND done_at >= ?", (start,)).fetchone()[0]
    data.releases_waiting = store.conn.execute(
        "SELECT COUNT(*) FROM releases WHERE status = 'pending'").fetchone()[0]
    data.attention = store.conn.execute(
        "SELECT COUNT(DISTINCT message) FROM annotations WHERE kind = 'needs_attention' AND created_at >= ?",
        (start,)).fetchone()[0]


def daemon_status(store, start: datetime | None, end: datetime) -> Daemon:
    """Join the runs' heartbeats into stretches of uptime and find the gaps in the period."""
    stretches: list[list[datetime]] = []
    for row in store.conn.execute("SELECT started_at, heartbeat_at, stopped_at, status FROM runs "
                                  "ORDER BY started_at, id"):
        begun = parse_iso(row["started_at"])
        last = parse_iso(row["stopped_at"]) or parse_iso(row["heartbeat_at"]) or begun
        if begun is None:
            continue
        if row["status"] == "running" and end - last <= GAP:
            last = end
        if stretches and begun - stretches[-1][1] <= GAP:
            stretches[-1][1] = max(stretches[-1][1], last)
        else:
            stretches.append([begun, max(begun, last)])
    out = Daemon()
    if not stretches:
        return out
    out.ever = True
    out.last_seen = stretches[-1][1]
    out.running = end - stretches[-1][1] <= GAP
    if out.running:
        out.since = stretches[-1][0]
    cursor = stretches[0][0] if start is None else max(start, stretches[0][0])
    for begun, last in stretches:
        if begun - cursor > GAP:
            out.gaps.append((cursor, begun))
        cursor = max(cursor, last)
    if not out.running:
        out.gaps.append((cursor, end))
    return out
