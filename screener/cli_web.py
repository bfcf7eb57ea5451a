"""Commands for the friend's page and the evidence bundle:
`serve`, `friend add`, `user add`, `evidence export`, `evidence verify`.
"""

from __future__ import annotations

import getpass
import sys

from screener.cli import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, config_arg
from screener.normalize import is_loopback


def register(sub) -> None:
    p = sub.add_parser("serve", help="Serve the trusted friend's page (127.0.0.1 by default).",
                       description="Serve the friend's audit page and the user's summary page with waitress on "
                                   "[web].listen and [web].port. It binds to 127.0.0.1 unless the config says "
                                   "otherwise; see docs/web.md before exposing it.")
    config_arg(p)
    p.add_argument("--threads", type=int, default=4, help="worker threads (default 4)")
    p.set_defaults(func=cmd_serve)

    for role, what in (("friend", "the trusted friend who audits held messages"),
                       ("user", "the protected person, who sees only content-free reports")):
        p = sub.add_parser(role, help=f"Accounts for {what}.", description=f"Accounts for {what}.")
        rsub = p.add_subparsers(dest=f"{role}_command", metavar="SUBCOMMAND", required=True)
        a = rsub.add_parser("add", help=f"Create a {role} account (asks for the password).",
                            description=f"Create a {role} account on the friend's page. The password is asked "
                                        "twice without echo, or read as one line from standard input with "
                                        "--password-stdin. It is stored only as a salted scrypt hash.")
        config_arg(a)
        a.add_argument("name", metavar="NAME", help="the login name")
        a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        a.add_argument("--replace", action="store_true",
                       help="set a new password for an existing account (ends its sessions)")
        a.set_defaults(func=cmd_account_add, role=role)

    p = sub.add_parser("evidence", help="Export or check an evidence bundle.",
                       description="Evidence bundles for the police or a lawyer: originals, a PDF report, a CSV, "
                                   "the hash-chained audit log and a manifest of SHA-256 hashes.")
    esub = p.add_subparsers(dest="evidence_command", metavar="SUBCOMMAND", required=True)
    e = esub.add_parser("export", help="Write an evidence bundle (.zip).",
                        description="Write every held message (or those of one blocked person, since a date) "
                                    "with a PDF report, a CSV, the audit log and a manifest into a zip.")
    config_arg(e)
    e.add_argument("--person", metavar="NAME", help="only messages tied to this blocked person")
    e.add_argument("--since", metavar="YYYY-MM-DD", help="only messages from this day on")
    e.add_argument("out", metavar="OUT.zip", help="where to write the bundle")
    e.set_defaults(func=cmd_evidence_export)
    v = esub.add_parser("verify", help="Check an evidence bundle's hashes and audit chain.",
                        description="Check every file against the manifest, the audit log's hash chain, and each "
                                    "original against the SHA-256 the audit log recorded. Exit 0 when intact, "
                                    "1 naming each problem otherwise.")
    v.add_argument("bundle", metavar="BUNDLE.zip", help="the bundle to check")
    v.set_defaults(func=cmd_evidence_verify)


def cmd_serve(args) -> int:
    from waitress import create_server

    from screener.config import load_config
    from screener.until_signalled import run_until_signalled
    from screener.web import create_app, warm_up

    config = load_config(args.config)
    host, port = config.web.listen, config.web.port
    if not is_loopback(host):
        print(f"screener: warning: serving on {host}, reachable from other machines"
              + ("" if config.web.secure_cookies else "; put it behind HTTPS and set [web].secure_cookies = true"),
              file=sys.stderr)
    app = create_app(config)
    warm_up(app)
    server = create_server(app, host=host, port=port, threads=max(1, args.threads), ident="screener")
    print(f"screener: serving the friend's page on http://{_url_host(host)}:{server.effective_port}/ "
          "(Ctrl-C to stop)", file=sys.stderr)
    run_until_signalled(server.run, server.close, "web")   # close(): finish requests in progress, close sockets
    return EXIT_OK



def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def cmd_account_add(args) -> int:
    from screener.accounts import AccountError, add_account, check_name, check_password
    from screener.config import load_config
    from screener.store import Store

    config = load_config(args.config)
    try:
        check_name(args.name)
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass(f"Password for {args.role} {args.name}: ")
            if getpass.getpass("Again: ") != password:
                print("screener: the passwords differ; nothing was changed", file=sys.stderr)
                return EXIT_CONFIG
        check_password(password)
        with Store.for_config(config) as store:
            created = add_account(store, args.name, args.role, password, actor="cli", replace=args.replace)
    except AccountError as exc:
        print(f"screener: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"{args.role} account {args.name!r} {'created' if created else 'given a new password'}")
    return EXIT_OK


def cmd_evidence_export(args) -> int:
    from screener.config import load_config
    from screener.evidence import export_bundle, parse_since
    from screener.store import Store

    config = load_config(args.config)
    since = parse_since(args.since)
    with Store.for_config(config) as store:
        manifest = export_bundle(config, store, args.out, person=args.person, since=since, actor="cli")
    print(f"evidence bundle written to {args.out}: {len(manifest['messages'])} message(s), "
          f"audit log to event {manifest['audit_head']['seq'] if manifest['audit_head'] else 0}")
    return EXIT_OK


def cmd_evidence_verify(args) -> int:
    from screener.evidence import verify_bundle

    problems, counts = verify_bundle(args.bundle)
    if problems:
        for problem in problems:
            print(f"screener: {problem}", file=sys.stderr)
        print(f"evidence bundle NOT intact: {len(problems)} problem(s)")
        return EXIT_FAIL
    print(f"evidence bundle intact: {counts['files']} files match the manifest, {counts['messages']} originals "
          f"match the audit log, {counts['events']} audit events chain correctly")
    return EXIT_OK
