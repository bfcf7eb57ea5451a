"""Garbage in the JSONL contract: `Message.from_json`, `classify_stream` and
`screener classify` on hostile lines.

Properties: a line is a Message or a RecordError (nothing else escapes);
every non-blank line gets exactly one output record, in order; every bad
line gets an error record and the others are still screened; the command
exits 3, prints only JSON on standard output and one line on standard error.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, run_cli, write_jsonl
from screener.classify import classify_stream
from screener.errors import RecordError
from screener.message import Message
from screener.screening import Screener

GOOD = {"channel": "email", "sender": "alex.morgan@gmail.com", "subject": "us",
        "body": "After everything I did for you, you owe me a conversation."}
NASTY_LINES = [
    "{not json", "[1, 2]", "null", "42", '"just a string"', "{}", '{"id": "no-body"}', '{"body": "no id"}',
    '{"id": "x", "body": 7}', '{"id": "x", "body": "b", "channel": "fax"}', '{"id": "x", "body": "b", "to": 5}',
    '{"id": "x", "body": "b", "sender": {"a": 1}}', '{"id": 1%s, "body": "b"}' % ("0" * 5000),
    "[" * 100_000 + "]" * 100_000, '{"id": "x", "body": "b"' + ', "k": [' * 50_000, "\ufeff{\"id\": 1}",
    '{"id": "x", "body": "\\ud800"', "\x00\x00\x00", '{"id": "x", "body": NaN, "date": Infinity}',
    '{"id": "x", "body": "b"} trailing', "\u2028x", '{"id": "\\udfff", "body": 1}',
]
# lines that are fine, however odd: each must be screened
ODD_GOOD = ['{"id": "s1", "body": "\\ud800 lone \\udfff surrogates"}', '{"id": 12, "body": ""}',
            '{"id": "s3", "body": "b", "date": 1e400, "to": "sam@example.org"}',
            '{"id": "s4", "body": "\\u0000 nul", "sender": "\\u202e\\u0000"}']


def check(line: str):
    start = time.perf_counter()
    try:
        msg = Message.from_json(line)
    except RecordError as exc:
        assert "\n" not in str(exc)
        msg = None
    assert time.perf_counter() - start < 2
    if msg is not None:
        for text in (msg.id, msg.body, msg.sender, msg.subject, *msg.to):
            text.encode("utf-8")                  # nothing unstorable reaches screening
    return msg


@settings(max_examples=300, deadline=None)
@given(line=st.text(max_size=300))
def test_any_text_is_a_message_or_a_record_error(line):
    check(line)


JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                           max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(record=st.dictionaries(st.sampled_from(["id", "body", "channel", "sender", "sender_name", "subject", "date",
                                               "to", "label"]), JSON_VALUES, max_size=8))
def test_any_json_record_is_a_message_or_a_record_error(record):
    msg = check(json.dumps(record))
    if msg is not None:
        assert isinstance(record.get("body"), str) and record.get("id") is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.one_of(st.sampled_from(NASTY_LINES + ODD_GOOD), st.text(max_size=50),
                                st.just(json.dumps(GOOD))), min_size=1, max_size=12))
def test_every_line_gets_one_record_in_order(config, model, lines):
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]   # one record per physical line
    out = io.StringIO()
    stats = classify_stream(Screener(config, model), [line + "\n" for line in lines], out)
    records = [json.loads(x) for x in out.getvalue().splitlines()]
    kept = [line for line in lines if line.strip()]
    assert len(records) == len(kept) == stats.screened + stats.errors
    for line, record in zip(kept, records):
        bad = check(line) is None
        assert ("error" in record) == bad and ("action" in record) == (not bad)
        if not bad:
            assert record["id"] == Message.from_json(line).id


def test_classify_command_on_garbage(tmp_path, config_path):
    lines = [json.dumps({"id": "a", **GOOD})] + NASTY_LINES + ODD_GOOD + [
        json.dumps({"id": "big", "sender": "x@y.example", "body": "I know where you live. " * 45_000}),
        json.dumps({"id": "z", **GOOD})]
    path = write_jsonl(tmp_path / "in.jsonl", lines)
    with open(path, "ab") as fh:                                          # bytes that are not UTF-8
        fh.write(b'{"id": "latin", "body": "caf\xe9 \xff\xfe"}\n\xff\xfe\xfd\n\n   \n')
    for source in ("file", "stdin"):
        start = time.perf_counter()
        if source == "file":
            proc = run_cli("classify", "--config", config_path, "--input", path)
        else:
            proc = subprocess.run([sys.executable, "-m", "screener", "classify", "--config", str(config_path),
                                   "--input", "-"], input=path.read_bytes(), capture_output=True, cwd=ROOT,
                                  timeout=120)
            proc = subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8"),
                                               proc.stderr.decode("utf-8"))
        assert time.perf_counter() - start < 60
        assert proc.returncode == 3, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
        records = [json.loads(x) for x in proc.stdout.splitlines()]
        assert len(records) == len(lines) + 2
        ids = [r["id"] for r in records if "action" in r]
        assert ids == ["a", "s1", "12", "s3", "s4", "big", "z", "latin"], ids
        errors = [r for r in records if "error" in r]
        assert len(errors) == len(NASTY_LINES) + 1 and all(set(r) == {"id", "error"} for r in errors)
        assert f"{len(errors)} of {len(records)} lines could not be screened" in proc.stderr


LONE_SURROGATES = st.lists(st.one_of(st.text(max_size=8), st.integers(0xD800, 0xDFFF).map(chr)), max_size=8).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=200), LONE_SURROGATES,
                     st.sampled_from(["", "\ud800", "(415) 555-0142", "alex.morgan@gmail.com", "+1 415 555 0142",
                                      "Alex Morgan", "\u202eAlex", "ALEX.MORGAN@GMAIL.COM", "1" * 40, "@", "<>"]))


@settings(max_examples=150, deadline=None)
@given(body=ANY_TEXT, sender=ANY_TEXT, name=ANY_TEXT, subject=ANY_TEXT, date=ANY_TEXT,
       channel=st.sampled_from(["email", "sms"]), to=st.lists(ANY_TEXT, max_size=3))
def test_screening_any_message_gives_a_verdict(config, model, body, sender, name, subject, date, channel, to):
    msg = Message(id="m", body=body, sender=sender, channel=channel, sender_name=name, subject=subject, date=date,
                  to=tuple(to))
    start = time.perf_counter()
    (verdict,) = Screener(config, model).screen([msg])
    assert time.perf_counter() - start < 3
    record = verdict.as_dict()
    json.dumps(record, ensure_ascii=False).encode("utf-8")
    assert record["action"] in ("deliver", "quarantine")
    if sender.strip().lower() in ("alex.morgan@gmail.com",) or sender in ("(415) 555-0142", "+1 415 555 0142"):
        assert record["action"] == "quarantine" and record["blocked_person"] == "Alex Morgan"
