"""`screener classify` exactly per ../shared/spec/contract.md."""

import json

from conftest import run_cli, write_jsonl

from screener.labels import SENDER_STATUSES, TACTICS

RECORDS = [
    {"id": "a", "channel": "sms", "sender": "(415) 555-0142", "body": "answer me. now."},
    {"id": "b", "channel": "email", "sender": "dana@example.net", "subject": "lunch", "body": "Lunch Thursday?"},
    {"id": "c", "sender": "colleague@work.example", "body": "Can we talk about the report before Friday?"},
    {"id": "d", "channel": "sms", "sender": "+14155550177", "sender_name": "", "body": "hey it's me, new number. "
     "I miss you so much, can we just talk? - Al", "date": "2026-03-01T20:00:00", "to": ["+14155550100"]},
]
OUTPUT_KEYS = {"id", "action", "alert", "sender_status", "blocked_person", "tactics", "tags", "logistics", "reasons"}


def test_one_result_per_line_in_order_and_only_json_on_stdout(tmp_path, config_path):
    inp = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    proc = run_cli("classify", "--config", config_path, "--input", inp)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(RECORDS)
    results = [json.loads(line) for line in lines]   # every stdout line is JSON
    assert [r["id"] for r in results] == ["a", "b", "c", "d"]
    for r in results:
        assert set(r) == OUTPUT_KEYS
        assert r["action"] in ("deliver", "quarantine")
        assert isinstance(r["alert"], bool)
        assert r["sender_status"] in SENDER_STATUSES
        assert set(r["tactics"]) == set(TACTICS)
        assert all(0.0 <= v <= 1.0 for v in r["tactics"].values())
        assert set(r["tags"]) <= set(TACTICS)
        assert all(set(f) == {"kind", "text"} for f in r["logistics"])
        assert all(set(x) == {"signal", "score", "detail"} and x["detail"] for x in r["reasons"])
    by_id = {r["id"]: r for r in results}
    assert by_id["a"]["sender_status"] == "blocked" and by_id["a"]["action"] == "quarantine"
    assert by_id["a"]["blocked_person"] == "Alex Morgan"
    assert by_id["b"]["sender_status"] == "trusted" and by_id["b"]["action"] == "deliver"
    assert by_id["c"]["action"] == "deliver" and by_id["c"]["blocked_person"] is None
    assert by_id["d"]["action"] == "quarantine" and by_id["d"]["blocked_person"] == "Alex Morgan"


def test_output_file_and_empty_stdout(tmp_path, config_path):
    inp = write_jsonl(tmp_path / "in.jsonl", RECORDS[:2])
    out = tmp_path / "out.jsonl"
    proc = run_cli("classify", "--config", config_path, "--input", inp, "--output", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a", "b"]


def test_bad_lines_get_error_records_and_exit_3(tmp_path, config_path):
    lines = [json.dumps(RECORDS[0]), "{not json", json.dumps({"id": "x1", "sender": "a@b.example"}),
             json.dumps({"body": "no id here"}), json.dumps(RECORDS[1]), "[1, 2]"]
    inp = write_jsonl(tmp_path / "in.jsonl", lines)
    proc = run_cli("classify", "--config", config_path, "--input", inp)
    assert proc.returncode == 3
    results = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(results) == 6
    assert results[0]["id"] == "a" and "action" in results[0]
    assert results[1]["id"] is None and "error" in results[1]
    assert results[2] == {"id": "x1", "error": results[2]["error"]} and "body" in results[2]["error"]
    assert results[3]["id"] is None and "id" in results[3]["error"]
    assert results[4]["id"] == "b" and "action" in results[4]
    assert results[5]["id"] is None and "error" in results[5]


def test_bad_config_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[user]\nname = 'x'\nregoin = 'US'\n")
    inp = write_jsonl(tmp_path / "in.jsonl", RECORDS[:1])
    proc = run_cli("classify", "--config", bad, "--input", inp)
    assert proc.returncode == 2
    assert proc.stdout == ""
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1
    assert str(bad) in err and "user.regoin" in err and "unknown key" in err


def test_missing_config_exits_2(tmp_path):
    inp = write_jsonl(tmp_path / "in.jsonl", RECORDS[:1])
    proc = run_cli("classify", "--config", tmp_path / "nope.toml", "--input", inp)
    assert proc.returncode == 2
    assert "nope.toml" in proc.stderr and "not found" in proc.stderr


def test_standard_input_and_relative_history_path(tmp_path):
    sub = tmp_path / "conf"
    sub.mkdir()
    write_jsonl(sub / "alex_history.jsonl", [{"id": "h1", "sender": "alex.morgan@gmail.com", "body": "hi"}])
    cfg = sub / "c.toml"
    cfg.write_text('[[blocked]]\nname = "Alex Morgan"\nemails = ["alex.morgan@gmail.com"]\n'
                   'history = "alex_history.jsonl"\n')
    proc = run_cli("classify", "--config", cfg, "--input", "-", input_text=json.dumps(RECORDS[2]) + "\n",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == "c"


def test_help_describes_every_command():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("classify", "scan", "check-config", "train", "evaluate"):
        assert command in proc.stdout
        sub = run_cli(command, "--help")
        assert sub.returncode == 0 and "usage:" in sub.stdout
    assert "--output" in run_cli("classify", "--help").stdout
