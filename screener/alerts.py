"""Safety alerts to the trusted friend.

`deliver_pending(config, store)` sends an alert for every stored message with
`alert = 1` that has none yet, through each configured route (see
`alert_routes`). The daemon and the SMS receiver call it after each batch
they store; `schedule.tick` calls it to retry.

- At once, and grouped: the first alert of a burst goes out immediately with
  every message waiting; messages that come within `[alerts] group_seconds`
  of the last alert sent through a route wait and go together in one alert
  when that time is up. So a route carries at most one alert per
  `group_seconds` (the rate limit).
- Every attempt is recorded in the `alerts` table and the audit log. A failed
  route is retried with growing pauses (1 minute up to 1 hour), for ever.
- Rows are claimed for a short lease before sending, so two processes never
  send the same alert, and a crash mid-send is retried when the lease ends.
- Never raises: a failure is recorded and logged in one line (no secrets).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from screener import alert_routes
from screener.alert_routes import AlertError, configured_routes
from screener.timeutil import iso, parse_iso, utcnow

log = logging.getLogger("screener.alerts")
LEASE = timedelta(seconds=120)
BACKOFF = (60, 120, 300, 600, 1800, 3600)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1])


def deliver_pending(config, store, now: datetime | None = None) -> int:
    """Send what is due; return how many alerts were sent (one per route and group)."""
    try:
        routes = configured_routes(config)
        if not routes:
            return 0
        now = now or utcnow()
        queue_new(config, store, routes, now)
        sent = 0
        for route in routes:
            sent += _deliver_route(config, store, route, now)
        return sent
    except Exception as exc:  # the caller (daemon, receiver) must keep running
        log.error("alerts: could not deliver (%s: %s)", type(exc).__name__, str(exc)[:200])
        return 0


def queue_new(config, store, routes: list[str], now: datetime) -> int:
    """Add a pending row per route for each alerting message that has none."""
    with store.write() as conn:
        new = [r[0] for r in conn.execute(
            "SELECT id FROM messages WHERE alert = 1 AND id NOT IN "
            "(SELECT message FROM alerts WHERE message IS NOT NULL) ORDER BY id")]
        if not new:
            return 0
        for route in routes:
            last = conn.execute("SELECT MAX(sent_at) FROM alerts WHERE via = ? AND status = 'sent' "
                                "AND message IS NOT NULL", (route,)).fetchone()[0]
            due = now
            if last and parse_iso(last):
                due = max(now, parse_iso(last) + timedelta(seconds=config.alerts.group_seconds))
            for message in new:
                conn.execute("INSERT INTO alerts (message, created_at, via, status, next_at) "
                             "VALUES (?, ?, ?, 'pending', ?)", (message, iso(now), route, iso(due)))
        return len(new)


def _claim(store, route: str, now: datetime) -> tuple[str, list[int], int] | None:
    """Take every unsent row of a route when one of them is due: (batch, message ids, attempts so far)."""
    stamp = iso(now)
    with store.write() as conn:
        rows = conn.execute("SELECT id, message, status, next_at, attempts FROM alerts WHERE via = ? "
                            "AND status != 'sent' AND message IS NOT NULL ORDER BY message", (route,)).fetchall()
        free = [r for r in rows if not (r["status"] == "sending" and (r["next_at"] or "") > stamp)]
        if not any((r["next_at"] or "") <= stamp for r in free):
            return None
        batch = uuid.uuid4().hex[:16]
        for r in free:
            conn.execute("UPDATE alerts SET status = 'sending', batch = ?, next_at = ?, attempted_at = ? "
                         "WHERE id = ?", (batch, iso(now + LEASE), stamp, r["id"]))
        return batch, sorted({r["message"] for r in free}), max(r["attempts"] for r in free)


def _deliver_route(config, store, route: str, now: datetime) -> int:
    claimed = _claim(store, route, now)
    if claimed is None:
        return 0
    batch, messages, attempts = claimed
    marks = ",".join("?" * len(messages))
    rows = store.conn.execute(f"SELECT id, channel, date, received_at, sender_status, blocked_person, tags, record "
                              f"FROM messages WHERE id IN ({marks}) ORDER BY id", messages).fetchall()
    title, text = alert_routes.compose(config, rows)
    try:
        alert_routes.send(route, config, title, text, alert_routes.link(config, messages[0]))
    except AlertError as exc:
        _failed(store, route, batch, messages, attempts + 1, str(exc), now)
        return 0
    with store.write() as conn:
        conn.execute("UPDATE alerts SET status = 'sent', sent_at = ?, attempts = attempts + 1, next_at = NULL, "
                     "last_error = NULL, grouped = ? WHERE batch = ?", (iso(now), len(messages), batch))
        for message in messages:
            store.audit("alerts", "alert_sent", message, via=route, batch=batch, grouped=len(messages),
                        attempt=attempts + 1)
    return 1


def _failed(store, route: str, batch: str, messages: list[int], attempt: int, error: str, now: datetime) -> None:
    retry = now + backoff(attempt)
    with store.write() as conn:
        conn.execute("UPDATE alerts SET status = 'failed', attempts = attempts + 1, last_error = ?, next_at = ? "
                     "WHERE batch = ?", (error[:300], iso(retry), batch))
        for message in messages:
            store.audit("alerts", "alert_failed", message, via=route, batch=batch, attempt=attempt,
                        error=error[:300], retry_at=iso(retry))
    log.warning("alert by %s failed (attempt %d, %d message(s)); retrying at %s: %s",
                route, attempt, len(messages), iso(retry), error)


def send_test(config, store) -> list[tuple[str, bool, str]]:
    """Send a test alert through each configured route: [(route, ok, detail)], each recorded."""
    results = []
    who = config.user.name or "the person you look out for"
    title = "screener: test alert"
    text = (f"This is a test alert from screener, sent for {who}. If you got it, safety alerts will reach you "
            "this way. Nothing needs doing.\n")
    for route in configured_routes(config):
        try:
            alert_routes.send(route, config, title, text, config.alerts.page_url)
            ok, detail = True, "sent"
        except AlertError as exc:
            ok, detail = False, str(exc)
        stamp = iso(utcnow())
        with store.write() as conn:
            conn.execute("INSERT INTO alerts (message, created_at, via, status, attempts, last_error, sent_at, "
                         "attempted_at) VALUES (NULL, ?, ?, ?, 1, ?, ?, ?)",
                         (stamp, route, "sent" if ok else "failed", None if ok else detail[:300],
                          stamp if ok else None, stamp))
            store.audit("cli", "alert_test", None, via=route, ok=ok, error=None if ok else detail[:300])
        results.append((route, ok, detail))
    return results
