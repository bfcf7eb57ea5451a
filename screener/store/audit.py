"""The hash-chained audit log.

Each event's hash covers the previous event's hash and the event itself in
canonical JSON, so editing or deleting any row breaks the chain from there on.
The chain's head (sequence number and hash) is also kept in `state`, so that
cutting events off the end is caught too.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

GENESIS = "0" * 64


def canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev: str, seq: int, at: str, actor: str, action: str, message, detail: str) -> str:
    body = canonical([seq, at, actor, action, message, detail])
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


def append(conn: sqlite3.Connection, at: str, actor: str, action: str, message, detail: dict) -> int:
    """Append one event. Must run inside the caller's write transaction."""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
    text = canonical(detail)
    digest = event_hash(prev, seq, at, actor, action, message, text)
    conn.execute("INSERT INTO audit (seq, at, actor, action, message, detail, prev, hash) VALUES (?,?,?,?,?,?,?,?)",
                 (seq, at, actor, action, message, text, prev, digest))
    conn.execute("INSERT INTO state (key, value) VALUES ('audit_head', ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (f"{seq}:{digest}",))
    return seq


def verify(conn: sqlite3.Connection) -> list[str]:
    """Every problem found in the chain, as sentences; empty when it is intact."""
    problems = []
    prev, expected_seq = GENESIS, 1
    for seq, at, actor, action, message, detail, stored_prev, digest in conn.execute(
            "SELECT seq, at, actor, action, message, detail, prev, hash FROM audit ORDER BY seq"):
        if seq != expected_seq:
            problems.append(f"audit event {expected_seq} is missing (next is {seq})")
        if stored_prev != prev:
            problems.append(f"audit event {seq} does not follow the event before it")
        if event_hash(stored_prev, seq, at, actor, action, message, detail) != digest:
            problems.append(f"audit event {seq} was changed after it was written")
        prev, expected_seq = digest, seq + 1
    head = conn.execute("SELECT value FROM state WHERE key = 'audit_head'").fetchone()
    last = expected_seq - 1
    if head:
        head_seq, _, head_hash = head[0].partition(":")
        if int(head_seq) != last or (last and head_hash != prev):
            problems.append(f"the audit log ends at event {last} but its recorded head is event {head_seq}")
    elif last:
        problems.append("the audit log has no recorded head")
    return problems
