"""Command line. Thin: the library raises typed errors, this turns them into
one-line messages and exit codes.

Exit codes: 0 success; 1 unexpected failure; 2 bad config or usage;
3 some input records could not be screened; 4 the model is missing or refused.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_CONFIG, EXIT_RECORDS, EXIT_MODEL = 0, 1, 2, 3, 4

# Modules that add their own commands: each has `register(subparsers)`.
# Keep one per line, in the order they appear in `screener --help`.
COMMAND_MODULES = (
    "screener.cli_store",
    "screener.cli_report",
    "screener.cli_web",
    "screener.cli_sms",
    "screener.cli_daemon",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="screener",
        description="Screen messages from a person you have gone no contact with: quarantine what you should "
                    "not read, tag manipulation tactics, raise safety alerts, and report without content.")
    from screener import __version__
    parser.add_argument("--version", action="version", version=f"screener {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("classify", help="Screen a JSONL file of message records (the batch contract).",
                       description="Read one JSON record per line from --input and write one JSON result per "
                                   "line, in the same order, to --output or standard output. Exit 0 when every "
                                   "line was screened, 3 when some lines were bad (they get error records), "
                                   "2 on a bad config.")
    config_arg(p)
    p.add_argument("--input", required=True, metavar="MESSAGES.jsonl", help="input records, one JSON object a line ('-' for standard input)")
    p.add_argument("--output", metavar="RESULTS.jsonl", help="where to write results (default: standard output)")
    p.add_argument("--model", metavar="DIR", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("scan", help="Screen a JSONL file and print a content-free summary (what `make demo` runs).",
                       description="Screen messages like `classify`, then print only counts, tactics, safety "
                                   "alerts and neutral logistics facts: never any message text.")
    config_arg(p)
    p.add_argument("--input", required=True, metavar="MESSAGES.jsonl", help="input records, one JSON object a line")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("check-config", help="Check a config file and say what it configures.",
                       description="Parse and check a config file; exit 2 with a one-line error if it is invalid.")
    config_arg(p)
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("train", help="Train the tactic model from data/corpus into models/tactics.",
                       description="Fit the tactic model on the training splits in data/, choose per-label "
                                   "thresholds on cross-writer validation, evaluate on the held-out split, and "
                                   "save weights, metadata and a model card.")
    p.add_argument("--data", metavar="DIR", default=None, help="the data folder (default: the project's data/)")
    p.add_argument("--out", metavar="DIR", default=None, help="where to save the model (default: models/tactics)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="Print per-label figures of the model on the held-out split.",
                       description="Score the held-out split and print precision, recall, F1 and ROC-AUC per "
                                   "label, the any-tactic figures, safety recall and logistics F1, sliced by "
                                   "channel and length; also the rate of tags on the public benign corpora when "
                                   "../shared/data is present. Writes the figures into the model's metadata.")
    p.add_argument("--data", metavar="DIR", default=None, help="the data folder (default: the project's data/)")
    p.add_argument("--model", metavar="DIR", default=None, help="the model folder (default: models/tactics)")
    p.add_argument("--no-write", action="store_true", help="print only; leave the model's metadata as it is")
    p.set_defaults(func=cmd_evaluate)

    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, metavar="CONFIG.toml", help="the config file (see docs/config.md)")


def main(argv: list[str] | None = None) -> int:
    from screener.errors import ConfigError, ModelError, RecordError, ScreenerError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"screener: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ModelError as exc:
        print(f"screener: model error: {exc}", file=sys.stderr)
        return EXIT_MODEL
    except (RecordError, ScreenerError, OSError) as exc:
        print(f"screener: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130


def open_store(args, readonly: bool = True):
    """(config, store) for commands that read or write the store named by --config."""
    from screener.config import load_config
    from screener.store import Store

    config = load_config(args.config)
    return config, Store.for_config(config, readonly=readonly)


def _screener(args):
    from screener.config import load_config
    from screener.model import TacticModel
    from screener.screening import Screener

    config = load_config(args.config)
    model = TacticModel.load(getattr(args, "model", None))
    return Screener(config, model)


def cmd_classify(args) -> int:
    from screener.classify import Progress, classify_stream

    screener = _screener(args)
    if args.input == "-":            # read like a file: bad UTF-8 is replaced, never fatal
        infile, size = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace"), None
    else:
        try:
            infile = open(args.input, encoding="utf-8", errors="replace")
        except OSError as exc:
            print(f"screener: cannot read {args.input}: {exc.strerror}", file=sys.stderr)
            return EXIT_FAIL
        size = Path(args.input).stat().st_size
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    progress = Progress(size)
    try:
        stats = classify_stream(screener, infile, out, progress)
    finally:
        progress.close()
        if out is not sys.stdout:
            out.close()
        if args.input != "-":
            infile.close()
    if stats.errors:
        print(f"screener: {stats.errors} of {stats.screened + stats.errors} lines could not be screened "
              "(see their error records)", file=sys.stderr)
        return EXIT_RECORDS
    return EXIT_OK


def cmd_scan(args) -> int:
    import io

    from screener.classify import classify_stream
    from screener.report import scan_summary

    screener = _screener(args)
    with open(args.input, encoding="utf-8", errors="replace") as fh:
        lines = fh.readlines()
    buf = io.StringIO()
    stats = classify_stream(screener, lines, buf)
    print(scan_summary(buf.getvalue().splitlines(), screener.config, stats))
    return EXIT_RECORDS if stats.errors else EXIT_OK


def cmd_check_config(args) -> int:
    from screener.config import load_config

    config = load_config(args.config)
    print(f"{config.file}: ok — mode {config.policy.mode}, {len(config.blocked)} blocked "
          f"{'person' if len(config.blocked) == 1 else 'people'}, {len(config.trusted)} trusted contact(s)")
    return EXIT_OK


def cmd_train(args) -> int:
    from screener.train import train

    model_dir = train(data_dir=args.data, out_dir=args.out, log=lambda s: print(s, file=sys.stderr))
    print(f"model saved to {model_dir}", file=sys.stderr)
    return EXIT_OK


def cmd_evaluate(args) -> int:
    from screener.evaluate import evaluate_model

    print(evaluate_model(data_dir=args.data, model_dir=args.model, write=not args.no_write))
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
