"""What the friend's page reads from the store: the filtered queue, a
message's notes and releases, and the curiosity lock's view requests.

Queue queries never read the `raw` column (originals can be large).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields

from screener.store import Store, now

HELD_STATES = ("quarantined", "pending", "error", "released")
DEFAULT_STATES = ("quarantined", "pending", "error")
PAGE_SIZE = 100
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_SQL = "substr(COALESCE(NULLIF(m.date, ''), m.received_at), 1, 10)"


@dataclass(frozen=True)
class QueueFilter:
    person: str = ""
    status: str = ""
    tactic: str = ""
    channel: str = ""
    state: str = ""          # "" = quarantined, pending and error; or one of HELD_STATES
    since: str = ""          # YYYY-MM-DD, the message's own date (or when it arrived)
    until: str = ""
    review: str = ""         # "" | unreviewed | confirmed | attention
    page: int = 1

    @classmethod
    def from_args(cls, args) -> "QueueFilter":
        values = {}
        for f in fields(cls):
            raw = (args.get(f.name) or "").strip()[:200]
            if f.name == "page":
                values["page"] = int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1
            elif f.name in ("since", "until"):
                values[f.name] = raw if _DAY.match(raw) else ""
            elif f.name == "state":
                values[f.name] = raw if raw in HELD_STATES else ""
            elif f.name == "review":
                values[f.name] = raw if raw in ("unreviewed", "confirmed", "attention") else ""
            else:
                values[f.name] = raw
        return cls(**values)

    def args(self, **change) -> dict:
        """Query arguments for a link to this filter (with some values changed)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out.update(change)
        return {k: v for k, v in out.items() if v and not (k == "page" and v == 1)}


def queue(store: Store, f: QueueFilter) -> tuple[list[dict], int]:
    """One page of held messages matching `f`, newest first, and how many match in all."""
    where, args = [], []
    states = (f.state,) if f.state else DEFAULT_STATES
    where.append(f"m.state IN ({','.join('?' * len(states))})")
    args += states
    for column, value in (("blocked_person", f.person), ("sender_status", f.status), ("channel", f.channel)):
        if value:
            where.append(f"m.{column} = ?")
            args.append(value)
    if f.tactic:
        where.append("EXISTS (SELECT 1 FROM json_each(m.tags) WHERE json_each.value = ?)")
        args.append(f.tactic)
    if f.since:
        where.append(f"{_DATE_SQL} >= ?")
        args.append(f.since)
    if f.until:
        where.append(f"{_DATE_SQL} <= ?")
        args.append(f.until)
    if f.review == "unreviewed":
        where.append("NOT EXISTS (SELECT 1 FROM annotations a WHERE a.message = m.id AND a.kind = 'confirm') "
                     "AND NOT EXISTS (SELECT 1 FROM releases r WHERE r.message = m.id)")
    elif f.review in ("confirmed", "attention"):
        kind = "confirm" if f.review == "confirmed" else "needs_attention"
        where.append("EXISTS (SELECT 1 FROM annotations a WHERE a.message = m.id AND a.kind = ?)")
        args.append(kind)
    sql_where = " AND ".join(where)
    total = store.conn.execute(f"SELECT COUNT(*) FROM messages m WHERE {sql_where}", args).fetchone()[0]
    ids = [r[0] for r in store.conn.execute(
        f"SELECT m.id FROM messages m WHERE {sql_where} "
        "ORDER BY COALESCE(NULLIF(m.date, ''), m.received_at) DESC, m.id DESC LIMIT ? OFFSET ?",
        [*args, PAGE_SIZE, (f.page - 1) * PAGE_SIZE])]
    found = {r["id"]: r for r in store.conn.execute(
        f"""SELECT m.id, m.channel, m.source, m.sender, m.sender_name, m.date, m.received_at, m.sender_status,
                   m.blocked_person, m.tags, m.state, m.alert, m.reasons,
                   json_extract(m.record, '$.subject') AS subject,
                   substr(json_extract(m.record, '$.body'), 1, 300) AS excerpt,
                   EXISTS (SELECT 1 FROM annotations a WHERE a.message = m.id AND a.kind = 'confirm') AS confirmed,
                   EXISTS (SELECT 1 FROM annotations a WHERE a.message = m.id AND a.kind = 'needs_attention')
                       AS attention,
                   (SELECT r.status FROM releases r WHERE r.message = m.id ORDER BY r.id DESC LIMIT 1) AS release
            FROM messages m WHERE m.id IN ({','.join('?' * len(ids))})""", ids)} if ids else {}
    rows = [found[i] for i in ids if i in found]
    out = []
    for row in rows:
        item = dict(row)
        item["tags"] = json.loads(row["tags"] or "[]")
        item["reasons"] = _unique_reasons(json.loads(row["reasons"] or "[]"))
        out.append(item)
    return out, total


def filter_options(store: Store, config) -> dict[str, list[str]]:
    """The values each filter can take: configured people plus what the store holds."""
    def distinct(column: str) -> list[str]:
        return [r[0] for r in store.conn.execute(
            f"SELECT DISTINCT {column} FROM messages WHERE {column} IS NOT NULL AND {column} != '' "
            f"ORDER BY {column}")]

    people = list(dict.fromkeys([p.name for p in config.blocked] + distinct("blocked_person")))
    tactics = sorted({t for (tags,) in store.conn.execute("SELECT DISTINCT tags FROM messages")
                      for t in json.loads(tags or "[]")})
    return {"person": people, "status": distinct("sender_status"), "tactic": tactics,
            "channel": distinct("channel"), "state": list(HELD_STATES)}


def _unique_reasons(reasons: list[dict]) -> list[dict]:
    seen, out = set(), []
    for r in reasons:
        key = (r.get("signal"), r.get("detail"))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def was_held(row) -> bool:
    """Held now or before (released): the only messages the friend may open. Mail that was simply
    delivered is the user's own business and stays off this page."""
    return row["state"] in HELD_STATES or row["action"] == "quarantine"


def message(store: Store, message_id: int) -> dict | None:
    """A held message with its JSON columns decoded; None when there is none or it was never held."""
    row = store.get(message_id)
    if row is None or not was_held(row):
        return None
    item = dict(row)
    item["record"] = json.loads(row["record"])
    for key in ("tags", "tactics", "logistics", "reasons"):
        item[key] = json.loads(row[key] or ("{}" if key == "tactics" else "[]"))
    item["reasons"] = _unique_reasons(item["reasons"])
    return item


def releases(store: Store, message_id: int) -> list[dict]:
    return [dict(r) for r in store.conn.execute(
        "SELECT * FROM releases WHERE message = ? ORDER BY id", (message_id,))]


def history(store: Store, message_id: int) -> list[dict]:
    """The audit events about one message, oldest first."""
    return [dict(r) for r in store.conn.execute(
        "SELECT seq, at, actor, action, detail FROM audit WHERE message = ? ORDER BY seq", (message_id,))]


# -- the curiosity lock -----------------------------------------------------------------

def held_for_user(store: Store, username: str) -> list[dict]:
    """Held messages as the user may see them listed: date, channel and their request's status only."""
    return [dict(r) for r in store.conn.execute(
        f"""SELECT m.id, m.channel, {_DATE_SQL} AS day,
                   (SELECT v.status FROM view_requests v WHERE v.message = m.id AND v.requested_by = ?
                    ORDER BY v.id DESC LIMIT 1) AS request
            FROM messages m WHERE m.state IN ('quarantined', 'pending', 'error')
            ORDER BY COALESCE(NULLIF(m.date, ''), m.received_at) DESC, m.id DESC LIMIT 500""",
        (username,))]


def request_view(store: Store, message_id: int, username: str, actor: str) -> bool:
    """Ask the friend to open a held message for the user. False when already asked or approved."""
    with store.write():
        if store.conn.execute("SELECT 1 FROM messages WHERE id = ? AND state IN ('quarantined','pending','error')",
                              (message_id,)).fetchone() is None:
            return False
        if store.conn.execute("SELECT 1 FROM view_requests WHERE message = ? AND requested_by = ? "
                              "AND status IN ('pending', 'approved')", (message_id, username)).fetchone():
            return False
        store.conn.execute("INSERT INTO view_requests (message, requested_by, requested_at) VALUES (?,?,?)",
                           (message_id, username, now()))
        store.audit(actor, "view_requested", message_id)
        return True


def view_requests(store: Store, status: str = "pending") -> list[dict]:
    return [dict(r) for r in store.conn.execute(
        """SELECT v.*, m.channel, m.sender_status, m.blocked_person, m.tags, m.date, m.received_at
           FROM view_requests v JOIN messages m ON m.id = v.message WHERE v.status = ? ORDER BY v.id""",
        (status,))]


def decide_view(store: Store, request_id: int, approve: bool, actor: str) -> bool:
    status = "approved" if approve else "refused"
    with store.write():
        row = store.conn.execute("SELECT message, requested_by FROM view_requests WHERE id = ? AND status = 'pending'",
                                 (request_id,)).fetchone()
        if row is None:
            return False
        store.conn.execute("UPDATE view_requests SET status = ?, decided_by = ?, decided_at = ? WHERE id = ?",
                           (status, actor, now(), request_id))
        store.audit(actor, f"view_{status}", row["message"], request=request_id, user=row["requested_by"])
        return True


def may_view(store: Store, message_id: int, username: str) -> bool:
    return store.conn.execute("SELECT 1 FROM view_requests WHERE message = ? AND requested_by = ? "
                              "AND status = 'approved'", (message_id, username)).fetchone() is not None
