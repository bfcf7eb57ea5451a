"""What the folder watches of one daemon share: the config, the screener (one
lock, so screening state learned in one folder applies to the next), a stop
event, the status board, the secrets to keep out of logs, and a callback for
"a batch was stored" (the runner then delivers alerts)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from screener.secrets import redact
from screener.store import now

log = logging.getLogger("screener.daemon")


class Screening:
    """One Screener for all watches; `screen()` is serialised and picks up aliases added meanwhile
    (by the friend's page, say) before each batch."""

    def __init__(self, config, model, store):
        from screener.ingest import screener_for

        self.screener = screener_for(config, model, store)
        self.model_sha = getattr(model, "sha256", None)
        self.lock = threading.Lock()

    def screen(self, store, messages: list) -> list:
        from screener.ingest import apply_aliases

        if not messages:
            return []
        with self.lock:
            apply_aliases(self.screener, store)
            return self.screener.screen(messages)


class StatusBoard:
    """What each watch is doing, kept in memory; the runner saves a snapshot in the store for `status`."""

    def __init__(self):
        self._lock = threading.Lock()
        self._watches: dict[str, dict] = {}
        self.changed = threading.Event()

    def update(self, account: str, folder: str, **fields) -> None:
        with self._lock:
            entry = self._watches.setdefault(f"{account}\t{folder}", {"account": account, "folder": folder,
                                                                        "faults": 0})
            if "state" in fields and fields["state"] != entry.get("state"):
                fields.setdefault("since", now())
            entry.update(fields)
        self.changed.set()

    def fault(self, account: str, folder: str, text: str) -> None:
        with self._lock:
            entry = self._watches.setdefault(f"{account}\t{folder}", {"account": account, "folder": folder,
                                                                        "faults": 0})
            entry.update(last_error=text, last_error_at=now(), faults=entry.get("faults", 0) + 1)
        self.changed.set()

    def snapshot(self) -> list[dict]:
        with self._lock:
            return [dict(v) for v in self._watches.values()]


class Secrets:
    """Every secret resolved so far, so that log lines can be scrubbed of them."""

    def __init__(self):
        self._values: tuple[str, ...] = ()

    def add(self, value: str) -> None:
        if value and value not in self._values:
            quoted = value.replace("\\", "\\\\").replace('"', '\\"')      # as written in a LOGIN command
            # Replaced whole (never changed in place), so other threads can scrub while one adds.
            self._values = tuple(sorted(set(self._values) | {value, quoted}, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        return redact(text, *self._values)


class RedactingFilter(logging.Filter):
    """Replaces any known secret in a log record's final text by ***."""

    def __init__(self, secrets: Secrets):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:
            return True
        clean = self.secrets.scrub(text)
        if clean != text:
            record.msg, record.args = clean, None
        return True


@dataclass
class Context:
    config: object
    store_path: Path
    screening: Screening
    status: StatusBoard
    secrets: Secrets
    stop: threading.Event = field(default_factory=threading.Event)
    on_stored: Callable[[], None] = lambda: None
    once: bool = False
    allow_move: bool = True
    progress: Callable[[str, int, int], None] = lambda name, done, total: None


class Backoff:
    """1, 2, 4 ... seconds up to `limit`; `reset()` after a healthy session."""

    def __init__(self, limit: int):
        self.limit = max(1, limit)
        self.delay = 1

    def next(self) -> int:
        current = self.delay
        self.delay = min(self.delay * 2, self.limit)
        return min(current, self.limit)

    def reset(self) -> None:
        self.delay = 1
