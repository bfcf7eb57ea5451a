"""Commands of the mailbox daemon: `run` (in the foreground) and `status`."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time

from screener.cli import EXIT_FAIL, EXIT_OK, config_arg


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="Run the mailbox daemon in the foreground (for systemd; logs to standard error).",
        description="Watch the [[imap]] accounts of the config: screen every message not screened yet, then each "
                    "new one as it arrives (IDLE push, or polling), move held messages to the quarantine folder, "
                    "carry out releases. SIGTERM finishes the current message and exits; SIGHUP reloads the config "
                    "and the model. See docs/daemon.md.")
    config_arg(p)
    p.add_argument("--once", action="store_true",
                   help="catch up every folder once, carry out pending releases, then exit (for cron)")
    p.add_argument("--verbose", action="store_true", help="log what the daemon does in detail")
    p.add_argument("--trace-imap", action="store_true",
                   help="also log the IMAP conversation (passwords are redacted, but message text is NOT: "
                        "do not share this log)")
    p.add_argument("--model", metavar="DIR", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", help="Show what the daemon is doing, without any message content.",
                       description="Print whether the daemon runs, each account and folder with its last screened "
                                   "UID and last contact with the server, today's counts and recent faults.")
    config_arg(p)
    p.add_argument("--json", action="store_true", help="print the same facts as JSON")
    p.set_defaults(func=cmd_status)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (so a progress bar can redirect it)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def setup_logging(secrets, verbose: bool = False, trace_imap: bool = False) -> logging.Handler:
    from screener.daemon.context import RedactingFilter

    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("screener").setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("imapclient").setLevel(logging.DEBUG if trace_imap else logging.WARNING)
    return handler


class Progress:
    """Backfill progress: a bar on a terminal while a backfill runs, else a log line every 10 s and at the end."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.tasks: dict[str, int] = {}
        self.last_line: dict[str, float] = {}

    def __call__(self, name: str, done: int, total: int) -> None:
        if total < 50:      # a few new messages are not a backfill
            return
        with self.lock:
            if self.tty:
                self._draw(name, done, total)
                return
            moment = time.monotonic()
            if done >= total or moment - self.last_line.get(name, 0) >= 10:
                self.last_line[name] = moment
                logging.getLogger("screener.daemon").info("%s: screened %d of %d", name, done, total)

    def _draw(self, name: str, done: int, total: int) -> None:
        if self.bar is None:
            from rich.progress import Progress as Bar

            self.bar = Bar(redirect_stderr=True)    # log lines are printed above the bar
            self.bar.start()
        if name not in self.tasks:
            self.tasks[name] = self.bar.add_task(f"screening {name}", total=total)
        self.bar.update(self.tasks[name], completed=done, total=total)
        if done >= total:
            del self.tasks[name]
            if not self.tasks:
                self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def cmd_run(args) -> int:
    from screener.config import load_config
    from screener.daemon.context import Secrets
    from screener.errors import ConfigError
    from screener.daemon.runner import Daemon
    from screener.model import TacticModel

    config = load_config(args.config)
    if not config.imap:
        raise ConfigError(str(config.file), "imap", "no [[imap]] account to watch")
    secrets = Secrets()
    handler = setup_logging(secrets, args.verbose, args.trace_imap)
    progress = Progress()
    # A missing or tampered model raises ModelError in run() (exit 4); so does it on reload (the old one stays).
    daemon = Daemon(config, lambda: TacticModel.load(args.model), once=args.once, secrets=secrets, progress=progress,
                    trace_imap=args.trace_imap)
    signal.signal(signal.SIGTERM, lambda *_: daemon.stop())
    signal.signal(signal.SIGINT, lambda *_: daemon.stop())
    signal.signal(signal.SIGHUP, lambda *_: daemon.request_reload())
    try:
        daemon.claim()      # refuse at once if another daemon uses the store
        return daemon.run()
    finally:
        progress.close()
        logging.getLogger().removeHandler(handler)


def cmd_status(args) -> int:
    from screener.config import load_config
    from screener.daemon import status
    from screener.store import Store, StoreError

    config = load_config(args.config)
    try:
        store = Store.for_config(config, readonly=True)
    except StoreError as exc:
        print(f"screener: {exc}", file=sys.stderr)
        return EXIT_FAIL
    with store:
        facts = status.collect(config, store)
    print(json.dumps(facts, indent=2) if args.json else status.render(facts))
    return EXIT_OK
