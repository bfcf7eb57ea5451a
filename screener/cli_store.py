"""Commands on the store: `audit verify` and `backup`."""

from __future__ import annotations

import sys

from screener.cli import EXIT_FAIL, EXIT_OK, config_arg, open_store


def register(sub) -> None:
    p = sub.add_parser("audit", help="Check the store's audit log.",
                       description="Commands on the hash-chained audit log of every action.")
    asub = p.add_subparsers(dest="audit_command", metavar="SUBCOMMAND", required=True)
    v = asub.add_parser("verify", help="Check the audit chain and every stored original's SHA-256.",
                        description="Walk the audit log's hash chain and recompute the SHA-256 of every stored "
                                    "original. Exit 0 when all is intact, 1 listing each problem otherwise.")
    config_arg(v)
    v.set_defaults(func=cmd_audit_verify)

    p = sub.add_parser("backup", help="Copy the store safely while the daemon runs.",
                       description="Write a consistent copy of the store (SQLite online backup), readable only "
                                   "by you.")
    config_arg(p)
    p.add_argument("dest", metavar="DEST.db", help="where to write the copy")
    p.set_defaults(func=cmd_backup)


def cmd_audit_verify(args) -> int:
    with open_store(args)[1] as store:
        problems = store.verify()
        events = store.conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
        messages = store.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    if problems:
        for problem in problems:
            print(f"screener: {problem}", file=sys.stderr)
        print(f"audit log NOT intact: {len(problems)} problem(s)")
        return EXIT_FAIL
    print(f"audit log intact: {events} events, {messages} stored originals match their SHA-256")
    return EXIT_OK


def cmd_backup(args) -> int:
    with open_store(args)[1] as store:
        dest = store.backup(args.dest)
    print(f"backup written to {dest}")
    return EXIT_OK
