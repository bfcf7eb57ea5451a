"""SMS commands: `import-sms` (phone backups) and `serve-sms` (gateway webhooks)."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager

from screener.cli import EXIT_CONFIG, EXIT_OK, config_arg


def register(sub) -> None:
    p = sub.add_parser(
        "import-sms", help="Screen SMS Backup & Restore XML files into the store.",
        description="Read one or more SMS Backup & Restore exports (sms-*.xml), screen every received SMS and "
                    "MMS, and store it with its verdict. Every file is checked to its end first: a truncated "
                    "or broken file stops the import before anything is stored. Messages already stored (an "
                    "earlier backup, or a webhook) are skipped, so importing each new full backup is safe, and "
                    "an interrupted import is resumed by running it again. Prints counts only, never text.")
    config_arg(p)
    p.add_argument("files", nargs="+", metavar="FILE.xml", help="SMS Backup & Restore export(s)")
    p.add_argument("--history-for", metavar="NAME",
                   help="also write the past messages of this blocked person (from their configured numbers)")
    p.add_argument("--out", metavar="HISTORY.jsonl", help="where --history-for writes (the contract's record format)")
    p.add_argument("--history-only", action="store_true",
                   help="with --history-for: write the history file and store nothing")
    p.add_argument("--model", metavar="DIR", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_import_sms)

    p = sub.add_parser(
        "serve-sms", help="Receive SMS from phone-gateway webhooks (SMS Gateway for Android, Twilio, generic).",
        description="Run the SMS webhook receiver on [sms].listen:[sms].port (127.0.0.1:8025 by default). "
                    "Routes: POST /sms/gateway, /sms/twilio, /sms/generic; each is enabled by its secret in [sms]. "
                    "Every request is signature-checked, deduplicated and stored before it is answered. "
                    "See docs/sms.md.")
    config_arg(p)
    p.add_argument("--model", metavar="DIR", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve_sms)


@contextmanager
def _progress_bar(paths):
    """A rich progress bar on standard error when it is a terminal; `None` otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    import os

    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    total = 0
    for p in paths:
        try:
            total += os.path.getsize(p)
        except OSError:
            pass
    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=True)
    tasks = {"check": bar.add_task("checking ", total=total), "import": bar.add_task("importing", total=total)}
    with bar:
        yield lambda phase, n: bar.advance(tasks[phase], n)


def cmd_import_sms(args) -> int:
    from screener.config import load_config
    from screener.model import TacticModel
    from screener.sms_import import HistoryWriter, blocked_person, import_backups
    from screener.store import Store

    config = load_config(args.config)
    history = None
    if args.history_for or args.out or args.history_only:
        if not (args.history_for and args.out):
            print("screener: import-sms: --history-for NAME and --out FILE go together", file=sys.stderr)
            return EXIT_CONFIG
        person = blocked_person(config, args.history_for)
        if person is None:
            names = ", ".join(repr(p.name) for p in config.blocked) or "none"
            print(f"screener: import-sms: {args.history_for!r} is not a [[blocked]] person in {config.file} "
                  f"(configured: {names})", file=sys.stderr)
            return EXIT_CONFIG
        if not person.phones:
            print(f"screener: import-sms: {person.name} has no phones configured in {config.file}", file=sys.stderr)
            return EXIT_CONFIG
    store_messages = not args.history_only
    model = TacticModel.load(args.model) if store_messages else None
    store = Store.for_config(config) if store_messages else None
    try:
        if args.history_for:
            history = HistoryWriter(person, args.out, config.user.region)
        with _progress_bar(args.files) as progress:
            stats = import_backups(config, model, store, args.files, history=history,
                                   store_messages=store_messages, progress=progress)
    finally:
        if store is not None:
            store.close()
    files = f"{stats.files} file{'s' if stats.files != 1 else ''}"
    if store_messages:
        print(f"{files}: {stats.received} received messages, {stats.new} newly stored ({stats.held} held in "
              f"quarantine, {stats.alerts} safety alert{'s' if stats.alerts != 1 else ''}), {stats.already} "
              f"already stored, {stats.via_webhook} already received by webhook; {stats.sent_skipped} sent "
              "messages skipped")
    if history is not None:
        print(f"history: {stats.history} messages from {person.name} written to {args.out}")
    return EXIT_OK


def cmd_serve_sms(args) -> int:
    import logging

    from screener.config import load_config
    from screener.model import TacticModel
    from screener.sms_server import check_configured, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    config = load_config(args.config)
    check_configured(config)
    serve(config, config.store.path, TacticModel.load(args.model))
    return EXIT_OK
