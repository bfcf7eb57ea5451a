"""The daemon: one thread per watched folder, the main thread for the rest.

The main thread sleeps on an event and wakes to: deliver alerts after a batch
was stored (`screener.alerts.deliver_pending`), run periodic jobs about once a
minute (`screener.schedule.tick`), write a heartbeat and the status board into
the store, reload on request, and stop. Signal handlers (installed by the CLI)
only call `stop()` or `request_reload()`.

A lock file beside the store keeps a second daemon off the same store.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from pathlib import Path
from typing import Callable

from screener.daemon.context import Context, Screening, Secrets, StatusBoard, log
from screener.daemon.folder_sync import FolderWatch
from screener.errors import ConfigError, ScreenerError
from screener.secrets import silence_protocol_logs
from screener.store import Store, now

HEARTBEAT_SECONDS = 10
TICK_SECONDS = 60
STATUS_KEY = "daemon.status"


class DaemonError(ScreenerError):
    """The daemon cannot start (another one holds the store, nothing to watch)."""


def watched_folders(account) -> list[str]:
    folders = list(account.folders)
    if account.staging_folder and account.staging_folder not in folders:
        folders.append(account.staging_folder)
    return folders


class Daemon:
    def __init__(self, config, load_model: Callable[[], object], *, once: bool = False, allow_move: bool = True,
                 secrets: Secrets | None = None, progress=None, trace_imap: bool = False):
        if not config.imap:
            raise ConfigError(str(config.file), "imap", "no [[imap]] account to watch")
        self.config = config
        self.load_model = load_model
        self.once = once
        self.allow_move = allow_move
        self.secrets = secrets or Secrets()
        self.progress = progress
        self.status = StatusBoard()
        self.watches: list[FolderWatch] = []
        self.ctx: Context | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._reload = threading.Event()
        self._stored = threading.Event()
        self._lock_file = None
        self._run_id: int | None = None
        self._failing: dict[str, str] = {}
        self.trace_imap = trace_imap
        self.started = threading.Event()

    # -- called from signal handlers or other threads --------------------------------------

    def stop(self) -> None:
        self._stopping.set()
        if self.ctx is not None:
            self.ctx.stop.set()
        self._wake.set()

    def request_reload(self) -> None:
        self._reload.set()
        self._wake.set()

    # -- the main loop --------------------------------------------------------------------

    def run(self) -> int:
        """Run until `stop()` (or, with `once`, until every folder was caught up). Returns 0, or 1 when
        `once` met a fault."""
        store = None
        run_id = None
        if not self.trace_imap:
            # The IMAP library's protocol trace repeats every server line and every fetched message: never
            # in the log, even when the root logger is at DEBUG, unless `--trace-imap` asked for it.
            silence_protocol_logs()
        try:
            model = self.load_model()       # a missing or tampered model: refuse before touching anything
            self.claim()
            store = Store(self.config.store.path)
            run_id = self._run_id = store.run_started(os.getpid())
            self._start_watches(store, self.config, model)
            log.info("screener daemon started (pid %d), watching %s", os.getpid(),
                     ", ".join(w.name for w in self.watches))
            self.started.set()
            self._loop(store)
        finally:
            self._stop_watches()
            if store is not None:
                try:
                    self._save_status(store)
                    if run_id is not None:
                        store.run_stopped(run_id)
                except ScreenerError as exc:
                    log.error("could not record the stop in the store: %s", exc)
                store.close()
            self._release_lock()
            self.started.set()
            if run_id is not None:
                log.info("screener daemon stopped")
        return 1 if self.once and any(w.failed for w in self.watches) else 0

    def _loop(self, store: Store) -> None:
        last_beat = last_tick = time.monotonic()
        while not self._stopping.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            if self._reload.is_set():
                self._reload.clear()
                self._do_reload(store)
            if self._stored.is_set():
                self._stored.clear()
                self._guarded("delivering alerts", _deliver_alerts, self.config, store)
            moment = time.monotonic()
            if moment - last_tick >= TICK_SECONDS:
                last_tick = moment
                self._guarded("periodic jobs", _tick, self.config, store)
            if moment - last_beat >= HEARTBEAT_SECONDS or (self.status.changed.is_set() and moment - last_beat >= 1):
                last_beat = moment
                self._guarded("heartbeat", self._beat, store)
            if self.once and all(w.thread is not None and not w.thread.is_alive() for w in self.watches):
                self._guarded("delivering alerts", _deliver_alerts, self.config, store)
                # A run from cron is short: the periodic jobs (a summary that is due) run before it ends.
                self._guarded("periodic jobs", _tick, self.config, store)
                break

    def _beat(self, store: Store) -> None:
        self.status.changed.clear()
        if self._run_id is not None:
            store.heartbeat(self._run_id)
        self._save_status(store)

    def _save_status(self, store: Store) -> None:
        snapshot = {"pid": os.getpid(), "saved_at": now(), "watches": self.status.snapshot()}
        with store.write():
            store.set_state(STATUS_KEY, json.dumps(snapshot, sort_keys=True))

    def _guarded(self, what: str, fn, *args) -> None:
        """Run a job of the main thread; a failure is logged once (not every second while a disk is full)
        and its end once too."""
        try:
            fn(*args)
        except ScreenerError as exc:
            text = self.secrets.scrub(str(exc))
            if self._failing.get(what) != text:
                log.error("%s failed: %s", what, text)
            self._failing[what] = text
        except Exception as exc:
            log.exception("%s failed unexpectedly: %s", what, type(exc).__name__)
        else:
            if self._failing.pop(what, None) is not None:
                log.info("%s works again", what)

    # -- watches ---------------------------------------------------------------------------

    def _start_watches(self, store: Store, config, model) -> None:
        self.ctx = Context(config=config, store_path=Path(config.store.path), screening=Screening(config, model, store),
                           status=self.status, secrets=self.secrets, on_stored=self._on_stored, once=self.once,
                           allow_move=self.allow_move, progress=self.progress or (lambda *a: None))
        if self._stopping.is_set():
            self.ctx.stop.set()
        self.watches = []
        for account in config.imap:
            for i, folder in enumerate(watched_folders(account)):
                watch = FolderWatch(self.ctx, account, folder, primary=i == 0)
                self.watches.append(watch)
                watch.start()

    def _stop_watches(self) -> None:
        if self.ctx is None:
            return
        self.ctx.stop.set()
        limit = max((a.timeout_seconds for a in self.config.imap), default=30) * 2 + 5
        deadline = time.monotonic() + limit
        for watch in self.watches:
            if watch.thread is not None:
                watch.thread.join(max(0.1, deadline - time.monotonic()))
                if watch.thread.is_alive():
                    log.warning("%s: did not stop within %d s; leaving it (the store stays consistent)",
                                watch.name, limit)

    def _on_stored(self) -> None:
        self._stored.set()
        self._wake.set()

    def _do_reload(self, store: Store) -> None:
        from screener.config import load_config

        try:
            config = load_config(self.config.file)
            model = self.load_model()
        except ScreenerError as exc:
            log.error("reload failed, keeping the running configuration: %s", exc)
            return
        if Path(config.store.path) != Path(self.config.store.path):
            log.error("reload refused: [store].path changed; restart the daemon to use another store")
            return
        if not config.imap:
            log.error("reload refused: %s has no [[imap]] account", config.file)
            return
        log.info("reloading %s and the model", config.file)
        self._stop_watches()
        self.config = config
        if not self._stopping.is_set():
            self._start_watches(store, config, model)
            log.info("reloaded: watching %s", ", ".join(w.name for w in self.watches))

    # -- one daemon per store -----------------------------------------------------------------

    def claim(self) -> None:
        """Take the store's daemon lock (DaemonError if another daemon holds it). `run()` calls it too."""
        if self._lock_file is not None:
            return
        path = Path(self.config.store.path)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock_path = path.with_name(path.name + ".daemon.lock")
        fh = open(lock_path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            pid = fh.read().strip() or "?"
            fh.close()
            raise DaemonError(f"another screener daemon (pid {pid}) is already using {path}") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._lock_file = fh

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def _deliver_alerts(config, store) -> None:
    from screener import alerts

    alerts.deliver_pending(config, store)


def _tick(config, store) -> None:
    from screener import schedule

    schedule.tick(config, store)
