"""Import "SMS Backup & Restore" files into the store (`screener import-sms`).

Two passes, so that a broken file changes nothing:

1. check: every file is read to its end without keeping anything. A file
   that is truncated, not well-formed or not a messages backup stops the
   import before anything is stored.
2. import: the received messages are screened through the shared path
   (`screen_into_store`) in batches of `BATCH` messages (fewer when their
   originals pass `BATCH_BYTES`), each batch stored in one transaction. An
   import stopped half way (power cut, Ctrl-C, a file replaced between the
   passes) is resumed by running the same command again: what was stored is
   recognised by its dedup key and skipped.

Sent messages are skipped. A message already received through a phone-gateway
webhook (same sender and text within `WEBHOOK_WINDOW` seconds) is not stored
a second time. `--history-for` writes a blocked person's past messages (sent
from their configured numbers) as a history JSONL file, written whole or not
at all.
"""

from __future__ import annotations

import ctypes
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from screener.alerts import deliver_pending
from screener.ingest import screen_into_store, screener_for
from screener.normalize import InvalidAddress, normalize_phone, normalize_sender
from screener.private import create_private
from screener.sources.sms_backup import BackupEntry, BackupError, check_backup, read_entries
from screener.store import Incoming

SOURCE = "sms-backup"
BATCH = 1000
BATCH_BYTES = 4 << 20
WEBHOOK_WINDOW = 600

Progress = Callable[[str, int], None]     # (phase "check" | "import", bytes read)


@dataclass
class ImportStats:
    files: int = 0
    entries: int = 0          # <sms> and <mms> read
    received: int = 0
    sent_skipped: int = 0
    new: int = 0              # stored by this run
    already: int = 0          # stored before (an earlier backup or run)
    via_webhook: int = 0      # received through a webhook already
    held: int = 0             # new ones quarantined
    alerts: int = 0           # new ones with a safety alert
    history: int = 0          # written to the history file


@dataclass
class _File:
    path: Path
    size: int
    mtime: int


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError as exc:
        raise BackupError(f"{path}: cannot read: {exc.strerror}") from None
    return st.st_size, st.st_mtime_ns


def check_files(paths, progress: Progress | None = None) -> list[_File]:
    """Pass 1: every file must be a complete backup. Raises BackupError naming the first bad one."""
    files = []
    for path in map(Path, paths):
        size, mtime = _stat(path)
        try:
            with open(path, "rb") as fh:
                check_backup(fh, str(path), (lambda n: progress("check", n)) if progress else None)
        except OSError as exc:
            raise BackupError(f"{path}: cannot read: {exc.strerror}") from None
        files.append(_File(path, size, mtime))
    return files


def blocked_person(config, name: str):
    """The [[blocked]] entry called `name` (case-insensitive), or None."""
    return next((p for p in config.blocked if p.name.casefold() == name.strip().casefold()), None)


class HistoryWriter:
    """Collects one blocked person's past messages; the file appears only on `commit()`."""

    def __init__(self, person, out: str | Path, region: str):
        self.person, self.out, self.region = person, Path(out), region
        numbers = set()
        for phone in person.phones:
            try:
                numbers.add(normalize_phone(phone, region))
            except InvalidAddress:
                continue
        self.numbers = numbers
        self.keys: set[str] = set()
        self.tmp = self.out.with_name(self.out.name + ".part")
        fd = create_private(self.tmp)
        self.fh = os.fdopen(fd, "w", encoding="utf-8")
        self.count = 0

    def add(self, entry: BackupEntry, key: str) -> None:
        if not entry.body.strip() or key in self.keys:
            return
        if normalize_sender(entry.sender, self.region) not in self.numbers:
            return
        self.keys.add(key)
        record = entry.message(key)
        out = {"id": record.id, "channel": "sms", "sender": record.sender, "body": record.body}
        if record.sender_name:
            out["sender_name"] = record.sender_name
        if record.date:
            out["date"] = record.date
        self.fh.write(json.dumps(out, ensure_ascii=False) + "\n")
        self.count += 1

    def commit(self) -> None:
        self.fh.close()
        os.replace(self.tmp, self.out)

    def abort(self) -> None:
        self.fh.close()
        self.tmp.unlink(missing_ok=True)


class _WebhookIndex:
    """Recognises a backup's texts that the store already got through a webhook."""

    def __init__(self, store):
        self.store = store
        self.used: set[int] = set()          # each webhook message matches one backup message
        self.matched: set[str] = set()       # dedup keys matched (the same text in a repeated backup)

    def seen(self, entry: BackupEntry, key: str, sender_key: str) -> bool:
        if key in self.matched:
            return True
        if self.store is None or entry.date_ms is None or not sender_key:
            return False
        when = entry.date_ms / 1000
        for row, record in self.store.conn.execute(
                "SELECT id, record FROM messages WHERE sender_key = ? AND date BETWEEN ? AND ? "
                "AND channel = 'sms' AND source != ?",
                (sender_key, _iso(when - WEBHOOK_WINDOW), _iso(when + WEBHOOK_WINDOW), SOURCE)):
            if row not in self.used and json.loads(record).get("body") == entry.body:
                self.used.add(row)
                self.matched.add(key)
                return True
        return False


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(max(0.0, epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_trim = None


def _give_back_memory() -> None:
    """Return freed heap pages to the system. glibc keeps them after the large strings of pictures,
    which shows as resident memory creeping up; elsewhere this is a no-op."""
    global _trim
    if _trim is None:
        try:
            _trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError):
            _trim = False
    if _trim:
        _trim(0)


def import_backups(config, model, store, paths, *, history=None, store_messages: bool = True,
                   progress: Progress | None = None, batch: int = BATCH) -> ImportStats:
    """Check then import backup files; see the module docstring. Raises BackupError."""
    region = config.user.region
    stats = ImportStats()
    screener = None
    pending: list[Incoming] = []
    pending_bytes = 0

    def flush():
        nonlocal pending, pending_bytes
        if pending:
            for stored in screen_into_store(screener, store, pending, "import"):
                if stored.new:
                    stats.new += 1
                    stats.held += stored.verdict.action == "quarantine"
                    stats.alerts += bool(stored.verdict.alert)
                else:
                    stats.already += 1
            pending, pending_bytes = [], 0
            _give_back_memory()

    try:
        files = check_files(paths, progress)
        if store_messages:
            screener = screener_for(config, model, store)
        webhooks = _WebhookIndex(store if store_messages else None)
        for f in files:
            if _stat(f.path) != (f.size, f.mtime):
                raise BackupError(f"{f.path}: changed while being imported; run the import again")
            stats.files += 1
            with open(f.path, "rb") as fh:
                for entry in read_entries(fh, str(f.path), (lambda n: progress("import", n)) if progress else None):
                    stats.entries += 1
                    if not entry.received:
                        stats.sent_skipped += 1
                        continue
                    stats.received += 1
                    key = entry.dedup_key(region)
                    if history is not None:
                        history.add(entry, key)
                    if not store_messages:
                        continue
                    if store.find(SOURCE, key) is not None:      # an earlier backup: skip it early
                        stats.already += 1
                        continue
                    if webhooks.seen(entry, key, normalize_sender(entry.sender, region)):
                        stats.via_webhook += 1
                        continue
                    pending.append(Incoming(message=entry.message(key), raw=entry.raw, source=SOURCE,
                                            dedup_key=key))
                    pending_bytes += len(entry.raw)
                    if len(pending) >= batch or pending_bytes >= BATCH_BYTES:
                        flush()
            flush()
    except BaseException:
        if history is not None:
            history.abort()
        raise
    if history is not None:
        history.commit()
        stats.history = history.count
    if store_messages:
        deliver_pending(config, store)
    return stats
