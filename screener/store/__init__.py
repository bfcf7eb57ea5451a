"""The store: one SQLite database holding every screened message and what
happened to it.

- Original bytes are kept byte for byte with their SHA-256; stored messages are
  never deleted or changed (triggers refuse it), only their state moves.
- Every action by the daemon, the importers, the user and the friend is an
  event in a hash-chained, append-only audit log (`verify()` finds any edit).
- Write-ahead logging: readers (the web page, `status`, `summary`) never block
  the writer. Writes go through `write()`, one short transaction each.
- The file is created 0600 in a 0700 folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from screener.errors import ScreenerError
from screener.private import create_private, tighten
from screener.store import audit as _audit
from screener.store.migrations import MIGRATIONS


class StoreError(ScreenerError):
    """The store cannot be opened, is locked, or a write failed."""


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Incoming:
    """A message as a source hands it to the store: the record to screen plus
    the original bytes and where it lives."""

    message: "object"          # screener.message.Message
    raw: bytes
    source: str                # imap | sms-backup | sms-gateway | sms-twilio | sms-generic | file
    dedup_key: str
    account: str | None = None
    folder: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None
    message_id: str | None = None


def _why(exc: sqlite3.Error) -> str:
    """SQLite's reason, in words a user can act on."""
    text = str(exc)
    if "full" in text:
        return f"the disk is full or the store reached its size limit ({text}); free some space"
    if "locked" in text or "busy" in text:
        return f"the store is locked by another process ({text})"
    if "readonly" in text or "read-only" in text:
        return f"the store cannot be written ({text}); check its file's permissions"
    if "disk I/O" in text:
        return f"the disk failed ({text})"
    return text


class Store:
    def __init__(self, path: str | Path, readonly: bool = False, timeout: float = 10.0):
        self.path = Path(path)
        self.readonly = readonly
        try:
            if readonly:
                if not self.path.exists():
                    raise StoreError(f"{self.path}: no store here yet (has the daemon or an import run?)")
                self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=timeout,
                                            isolation_level=None, check_same_thread=False)
            else:
                self._create_private()
                self.conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                            check_same_thread=False)
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            if not readonly:
                self.migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the store: {exc}") from None

    @classmethod
    def for_config(cls, config, readonly: bool = False) -> "Store":
        return cls(config.store.path, readonly=readonly)

    def _create_private(self) -> None:
        folder = self.path.parent
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
        old = os.umask(0o077)      # the -wal and -shm files are created 0600 too
        try:
            if not self.path.exists():
                fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
        finally:
            os.umask(old)
        for suffix in ("", "-wal", "-shm"):      # a store copied in with looser modes is made private
            tighten(f"{self.path}{suffix}")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- transactions and migrations -------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE): all or nothing."""
        if self.readonly:
            raise StoreError(f"{self.path}: opened read-only")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: {_why(exc)}") from None
        try:
            yield self.conn
        except sqlite3.Error as exc:
            self._rollback()
            raise StoreError(f"{self.path}: could not save, nothing was changed: {_why(exc)}") from None
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"{self.path}: could not save, nothing was changed: {_why(exc)}") from None

    def _rollback(self) -> None:
        """Undo the open transaction (SQLite may already have undone it itself, on a full disk say)."""
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def migrate(self) -> list[str]:
        """Apply the migrations not applied yet, each in one transaction. Returns their names."""
        self.conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {r[0] for r in self.conn.execute("SELECT name FROM migrations")}
        applied = []
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self.write() as conn:
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, now()))
                _audit.append(conn, now(), "store", "migrate", None, {"migration": name})
            applied.append(name)
        return applied

    def audit(self, actor: str, action: str, message: int | None = None, /, **detail) -> int:
        """Append an audit event; call inside `write()` so it commits with the change it records."""
        return _audit.append(self.conn, now(), actor, action, message, detail)

    # -- messages ----------------------------------------------------------------------

    def find(self, source: str | None = None, dedup_key: str | None = None, *,
             message_id: str | None = None, sha: str | None = None) -> sqlite3.Row | None:
        if source is not None and dedup_key is not None:
            return self.conn.execute("SELECT * FROM messages WHERE source = ? AND dedup_key = ?",
                                     (source, dedup_key)).fetchone()
        if message_id:
            row = self.conn.execute("SELECT * FROM messages WHERE message_id = ? ORDER BY id LIMIT 1",
                                    (message_id,)).fetchone()
            if row is not None and (sha is None or row["sha256"] == sha):
                return row
        if sha:
            return self.conn.execute("SELECT * FROM messages WHERE sha256 = ? ORDER BY id LIMIT 1", (sha,)).fetchone()
        return None

    def add(self, item: Incoming, verdict, state: str, location: str | None, actor: str,
            model_sha: str | None = None, error: str | None = None) -> int:
        """Store one message with its verdict (None for an error). Call inside `write()`."""
        msg = item.message
        record = json.dumps(_record(msg), ensure_ascii=False)
        digest = sha256(item.raw)
        v = verdict.as_dict() if verdict is not None else {}
        cur = self.conn.execute(
            """INSERT INTO messages (record_id, channel, source, dedup_key, account, folder, uidvalidity, uid,
                   message_id, sha256, raw, record, sender, sender_key, sender_name, date, received_at,
                   screened_at, action, alert, sender_status, blocked_person, tags, tactics, logistics, reasons,
                   state, location, error, model_sha)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (msg.id, msg.channel, item.source, item.dedup_key, item.account, item.folder, item.uidvalidity,
             item.uid, item.message_id, digest, item.raw, record, msg.sender,
             getattr(verdict, "sender_key", None), msg.sender_name, msg.date, now(),
             now() if verdict is not None else None, v.get("action"), int(bool(v.get("alert"))),
             v.get("sender_status"), v.get("blocked_person"), json.dumps(v.get("tags", [])),
             json.dumps(v.get("tactics", {})), json.dumps(v.get("logistics", [])),
             json.dumps(_stored_reasons(verdict), ensure_ascii=False), state, location, error, model_sha))
        rowid = cur.lastrowid
        self.audit(actor, "screened" if verdict is not None else "unparseable", rowid,
                   sha256=digest, source=item.source, state=state, verdict=v.get("action"),
                   sender_status=v.get("sender_status"), blocked_person=v.get("blocked_person"),
                   alert=bool(v.get("alert")), tags=v.get("tags", []), error=error)
        return rowid

    def move(self, message: int, state: str, location: str | None, actor: str, *, folder: str | None = None,
             uid: int | None = None, uidvalidity: int | None = None, **detail) -> None:
        """Record that a message changed state or place. Call inside `write()`."""
        self.conn.execute(
            "UPDATE messages SET state = ?, location = ?, folder = COALESCE(?, folder), uid = COALESCE(?, uid), "
            "uidvalidity = COALESCE(?, uidvalidity) WHERE id = ?",
            (state, location, folder, uid, uidvalidity, message))
        self.audit(actor, state, message, location=location, **detail)

    def hold_afterwards(self, message: int, verdict, state: str, location: str | None, actor: str, *,
                        folder: str | None = None, because: int | None = None) -> None:
        """A delivered message held afterwards with a new verdict (its sender was shown to be a
        blocked person by message `because`). Call inside `write()`."""
        v = verdict.as_dict()
        self.conn.execute(
            "UPDATE messages SET action = ?, sender_status = ?, blocked_person = ?, reasons = ?, state = ?, "
            "location = ?, folder = COALESCE(?, folder) WHERE id = ?",
            (v["action"], v["sender_status"], v["blocked_person"],
             json.dumps(_stored_reasons(verdict), ensure_ascii=False), state, location, folder, message))
        self.audit(actor, "held_afterwards", message, state=state, location=location, because=because,
                   blocked_person=v["blocked_person"])

    def get(self, message: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM messages WHERE id = ?", (message,)).fetchone()

    def messages(self, state: str | None = None, since: str | None = None, person: str | None = None,
                 limit: int | None = None) -> list[sqlite3.Row]:
        sql, args = "SELECT * FROM messages WHERE 1=1", []
        if state:
            sql += " AND state = ?"
            args.append(state)
        if since:
            sql += " AND received_at >= ?"
            args.append(since)
        if person:
            sql += " AND blocked_person = ?"
            args.append(person)
        sql += " ORDER BY id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.conn.execute(sql, args).fetchall()

    # -- watermarks ------------------------------------------------------------------------

    def watermark(self, account: str, folder: str) -> tuple[int, int] | None:
        row = self.conn.execute("SELECT uidvalidity, last_uid FROM watermarks WHERE account = ? AND folder = ?",
                                (account, folder)).fetchone()
        return (row[0], row[1]) if row else None

    def set_watermark(self, account: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        """Call inside `write()`, in the same transaction as the messages it covers."""
        self.conn.execute(
            "INSERT INTO watermarks (account, folder, uidvalidity, last_uid, updated_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT(account, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, "
            "last_uid = excluded.last_uid, updated_at = excluded.updated_at",
            (account, folder, uidvalidity, last_uid, now()))

    # -- aliases, releases, notes -----------------------------------------------------------

    def add_alias(self, value: str, role: str, person: str | None, source: str, actor: str) -> bool:
        """Remember a sender as one of a blocked person's aliases or as trusted. Call inside `write()`."""
        cur = self.conn.execute("INSERT OR IGNORE INTO aliases (value, role, person, source, created_at) "
                                "VALUES (?,?,?,?,?)", (value, role, person, source, now()))
        if cur.rowcount:
            self.audit(actor, f"alias_{role}", None, value=value, person=person, source=source)
        return bool(cur.rowcount)

    def aliases(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM aliases ORDER BY id").fetchall()

    def request_release(self, message: int, by: str) -> int:
        """Ask for a held message to go back. The messages held afterwards because of it (its
        sender's earlier ones, see `screener.hold_earlier`) were held only for what it showed:
        they go back with it."""
        with self.write():
            release = self._request_release(message, by)
            for other in self.held_because(message):
                self._request_release(other, by, because=message)
            return release

    def held_because(self, message: int) -> list[int]:
        """Messages still held afterwards because of `message`."""
        # Held in the same batch or afterwards, the reason names the revealing message's id.
        return [r[0] for r in self.conn.execute(
            "SELECT m.id FROM messages m JOIN messages later ON later.id = ? "
            "WHERE m.sender_key = later.sender_key AND m.id != later.id AND m.state IN ('quarantined', 'pending') "
            "AND EXISTS (SELECT 1 FROM json_each(m.reasons) r WHERE json_extract(r.value, '$.signal') = "
            "'same_sender_held' AND instr(json_extract(r.value, '$.detail'), '(' || later.record_id || ')') > 0) "
            "ORDER BY m.id", (message,))]

    def _request_release(self, message: int, by: str, **detail) -> int:
        pending = self.conn.execute("SELECT id FROM releases WHERE message = ? AND status = 'pending'",
                                    (message,)).fetchone()
        if pending:
            return pending[0]
        cur = self.conn.execute("INSERT INTO releases (message, requested_by, requested_at) VALUES (?,?,?)",
                                (message, by, now()))
        self.audit(by, "release_requested", message, **detail)
        return cur.lastrowid

    def pending_releases(self) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT r.id AS release_id, m.* FROM releases r JOIN messages m ON m.id = r.message "
            "WHERE r.status = 'pending' ORDER BY r.id").fetchall()

    def finish_release(self, release: int, ok: bool, outcome: str, actor: str) -> None:
        """Call inside `write()`, with the `move()` that released it."""
        self.conn.execute("UPDATE releases SET status = ?, done_at = ?, outcome = ? WHERE id = ?",
                          ("done" if ok else "failed", now(), outcome, release))
        msg = self.conn.execute("SELECT message FROM releases WHERE id = ?", (release,)).fetchone()
        self.audit(actor, "release_done" if ok else "release_failed", msg[0] if msg else None, outcome=outcome)

    def annotate(self, message: int, author: str, kind: str, value: str = "") -> None:
        with self.write():
            self.conn.execute("INSERT INTO annotations (message, author, kind, value, created_at) VALUES (?,?,?,?,?)",
                              (message, author, kind, value, now()))
            self.audit(author, kind, message, value=value)

    def annotations(self, message: int) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM annotations WHERE message = ? ORDER BY id", (message,)).fetchall()

    # -- key/value state, runs -------------------------------------------------------------

    def get_state(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_state(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO state (key, value) VALUES (?, ?) "
                          "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def run_started(self, pid: int) -> int:
        with self.write():
            self.conn.execute("UPDATE runs SET status = 'stopped' WHERE status = 'running'")
            cur = self.conn.execute("INSERT INTO runs (pid, started_at, heartbeat_at) VALUES (?,?,?)",
                                    (pid, now(), now()))
            self.audit("daemon", "daemon_started", None, pid=pid)
            return cur.lastrowid

    def heartbeat(self, run: int) -> None:
        with self.write():
            self.conn.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (now(), run))

    def run_stopped(self, run: int) -> None:
        with self.write():
            self.conn.execute("UPDATE runs SET status = 'stopped', stopped_at = ?, heartbeat_at = ? WHERE id = ?",
                              (now(), now(), run))
            self.audit("daemon", "daemon_stopped", None)

    # -- integrity and backup -------------------------------------------------------------

    def verify(self) -> list[str]:
        """Problems with the audit chain or the stored originals; empty when all is intact.

        Reads one snapshot, so a writer appending meanwhile cannot make it look broken."""
        if self.conn.in_transaction:
            return self._verify()
        self.conn.execute("BEGIN")
        try:
            return self._verify()
        finally:
            self.conn.execute("COMMIT")

    def _verify(self) -> list[str]:
        problems = _audit.verify(self.conn)
        recorded = {}
        for message, detail in self.conn.execute(
                "SELECT message, detail FROM audit WHERE action IN ('screened', 'unparseable')"):
            recorded[message] = json.loads(detail).get("sha256")
        for rowid, digest, raw in self.conn.execute("SELECT id, sha256, raw FROM messages"):
            if sha256(raw) != digest:
                problems.append(f"message {rowid}: its original bytes no longer match their SHA-256")
            elif recorded.get(rowid) != digest:
                problems.append(f"message {rowid}: its SHA-256 differs from the one in the audit log")
        return problems

    def backup(self, dest: str | Path) -> Path:
        """A consistent copy while the daemon runs (SQLite's online backup), 0600."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        os.close(create_private(tmp))
        target = sqlite3.connect(tmp)
        try:
            self.conn.backup(target)
        finally:
            target.close()
        os.replace(tmp, dest)
        return dest


def _stored_reasons(verdict) -> list[dict]:
    """The verdict's reasons as the contract writes them, plus the person each points at: what
    screening needs to carry a sender's evidence into messages screened after a restart."""
    if verdict is None:
        return []
    reasons = getattr(verdict, "reasons", None)
    if reasons is None:   # a verdict given as its record only
        return verdict.as_dict().get("reasons", [])
    return [dict(r.as_dict(), person=r.person) if r.person else r.as_dict() for r in reasons]


def _record(msg) -> dict:
    out = {"id": msg.id, "channel": msg.channel, "sender": msg.sender, "body": msg.body}
    for name in ("sender_name", "subject", "date"):
        if getattr(msg, name):
            out[name] = getattr(msg, name)
    if msg.to:
        out["to"] = list(msg.to)
    return out


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (triggers contain ';' inside BEGIN ... END)."""
    out, buf = [], []
    for line in sql.splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and sqlite3.complete_statement(text):
            out.append(text)
            buf = []
    rest = "\n".join(buf).strip()
    if rest:
        out.append(rest)
    return out
