"""Commands for what the protected person and the friend are told:
`summary`, `digest` and `alert test`."""

from __future__ import annotations

import sys

from screener.cli import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, config_arg, open_store


def register(sub) -> None:
    p = sub.add_parser("summary", help="Print the content-free summary of what was held.",
                       description="Counts of held messages by channel, person, sender status and tactic, the "
                                   "weekly trend, safety alerts, releases and whether the screener kept running. "
                                   "Never any message text.")
    config_arg(p)
    _period_args(p)
    p.add_argument("--output", metavar="FILE", help="write it to FILE (readable only by you) instead of printing")
    p.add_argument("--deliver", action="store_true",
                   help="deliver it now where [summary] says (file and/or mailbox), as the daemon does when it is "
                        "due, and record the delivery (and the digest in co_parenting mode)")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("digest", help="Print the co-parenting digest of practical facts.",
                       description="Only the dates, times, places and amounts from the blocked person's held "
                                   "messages (co_parenting mode), deduplicated, marked new or changed since the "
                                   "last delivered digest.")
    config_arg(p)
    _period_args(p)
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("alert", help="Safety alerts to the trusted friend.",
                       description="Commands on safety alerts.")
    asub = p.add_subparsers(dest="alert_command", metavar="SUBCOMMAND", required=True)
    t = asub.add_parser("test", help="Send a test alert through each configured route.",
                        description="Send a test alert by email and/or webhook as configured in [alerts], and "
                                    "say for each route whether it worked. Exit 0 when all worked, 1 otherwise, "
                                    "2 when no route is configured.")
    config_arg(t)
    t.set_defaults(func=cmd_alert_test)


def _period_args(p) -> None:
    p.add_argument("--since", default="7d", metavar="DURATION",
                   help="how far back: e.g. 24h, 7d, 4w, or 'all' (default: 7d)")
    p.add_argument("--format", choices=("text", "html"), default="text", help="text (default) or html")


def _since(text: str):
    from screener.errors import ScreenerError
    from screener.timeutil import DurationError, parse_duration

    if text.strip().lower() == "all":
        return None
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise ScreenerError(f"--since: {exc}") from None


def cmd_summary(args) -> int:
    from screener.schedule import write_file
    from screener.summary import render_summary

    since = _since(args.since)
    if args.deliver:
        return _deliver_summary(args, since)
    config, store = open_store(args)
    with store:
        text = render_summary(config, store, since, args.format)
    if args.output:
        write_file(args.output, text)
        print(f"summary written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _deliver_summary(args, since) -> int:
    from screener.schedule import deliver_summary, destinations
    from screener.timeutil import utcnow

    if args.output:
        print("screener: summary: --deliver writes where [summary] says; --output does not go with it",
              file=sys.stderr)
        return EXIT_CONFIG
    config, store = open_store(args, readonly=False)
    with store:
        dests = destinations(config)
        if not dests:
            print(f"screener: {config.file}: [summary]: no destination configured (set mailbox and/or file)",
                  file=sys.stderr)
            return EXIT_CONFIG
        failed = deliver_summary(config, store, dests, since, utcnow())
    for dest in dests:
        print(f"summary to {dest}: " + (f"FAILED ({failed[dest]})" if dest in failed else "delivered"))
    return EXIT_FAIL if failed else EXIT_OK


def cmd_digest(args) -> int:
    from screener.digest import render_digest

    since = _since(args.since)
    config, store = open_store(args)
    with store:
        sys.stdout.write(render_digest(config, store, since, args.format))
    return EXIT_OK


def cmd_alert_test(args) -> int:
    from screener.alert_routes import configured_routes
    from screener.alerts import send_test

    config, store = open_store(args, readonly=False)
    with store:
        if not configured_routes(config):
            print(f"screener: {config.file}: [alerts]: no route configured (set smtp_host and friend_emails, "
                  "or webhook_url)", file=sys.stderr)
            return EXIT_CONFIG
        results = send_test(config, store)
    for route, ok, detail in results:
        print(f"{route}: {'ok' if ok else 'FAILED'}" + ("" if ok else f" ({detail})"))
    return EXIT_OK if all(ok for _, ok, _ in results) else EXIT_FAIL
