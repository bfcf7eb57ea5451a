"""`screener import-sms` on real-format backup files, end to end through the CLI and the store."""

import json
import os
import stat

import pytest

from conftest import run_cli
from smsfiles import ALEX, Mms, Sms, corpus, padding, render
from screener.message import read_jsonl
from screener.normalize import normalize_sender
from screener.sms_import import HistoryWriter, import_backups
from screener.sources.sms_backup import BackupError
from screener.store import Store


def db(config_path):
    return config_path.parent / "screener-data" / "screener.db"


def counts(path):
    with Store(path, readonly=True) as s:
        return tuple(s.conn.execute(q).fetchone()[0] for q in
                     ("SELECT COUNT(*) FROM messages", "SELECT COUNT(*) FROM audit", "SELECT MAX(id) FROM messages"))


def sender_of(m):
    return m.address if isinstance(m, Sms) else m.sender


def body_of(m):
    return (m.body if isinstance(m, Sms) else m.text) or ""


@pytest.fixture(scope="module")
def backups(tmp_path_factory):
    d = tmp_path_factory.mktemp("backups")
    first = corpus()
    later = corpus(seed=7, start=first.items[-1].date + 86_400_000, n_benign=40)
    (d / "sms-2025-02-03.xml").write_bytes(render(first.items))
    # the next full backup repeats everything, this time with emoji as surrogate-pair references
    (d / "sms-2025-03-03.xml").write_bytes(render(first.items + later.items, surrogates=True, backup_set="x9"))
    return d, first, later


def test_import_screens_received_messages_and_skips_repeats(config_path, backups):
    d, first, later = backups
    one, two = d / "sms-2025-02-03.xml", d / "sms-2025-03-03.xml"
    r = run_cli("import-sms", "--config", config_path, one)
    assert r.returncode == 0, r.stderr
    received = first.received()
    assert f"{len(received)} received messages, {len(received)} newly stored" in r.stdout
    sent = len(first.items) - len(received)
    assert f"{sent} sent messages skipped" in r.stdout
    for m in received[:50]:                      # counts only: never a message's text
        assert body_of(m) not in r.stdout + r.stderr or not body_of(m)

    with Store(db(config_path), readonly=True) as store:
        rows = store.messages()
        assert len(rows) == len(received)
        assert {r["channel"] for r in rows} == {"sms"} and {r["source"] for r in rows} == {"sms-backup"}
        by_sender = {}
        for row in rows:
            by_sender.setdefault(normalize_sender(row["sender"], "US"), []).append(row)
        alex = by_sender["+14155550142"]
        assert len(alex) == len(first.from_alex()) >= 20
        assert {r["sender"] for r in alex} == set(ALEX)       # kept as written, matched however written
        assert all(r["state"] == "quarantined" and r["blocked_person"] == "Alex Morgan" for r in alex)
        group = [r for r in alex if json.loads(r["raw"])["element"] == "mms"]
        assert group and all(len(json.loads(r["record"])["to"]) >= 2 for r in group)
        (dana,) = by_sender["+14155550199"]
        assert dana["state"] == "delivered" and dana["sender_status"] == "trusted"
        assert json.loads(dana["record"])["body"] == "Checking in \U0001F917 call me when you can"
        bodies = [json.loads(r["record"])["body"] for r in rows]
        assert "Leave me alone." not in bodies and "see attached" not in bodies     # sent ones skipped
        assert "" in bodies                                                         # body "null", picture only
        pictures = [r for r in rows if '"image/jpeg"' in r["raw"].decode()]
        assert len(pictures) == len([m for m in received if isinstance(m, Mms) and m.image])
        assert store.verify() == []

    # the next full backup, given twice, emoji written the other way: only the newer messages are added
    hist = d / "alex.jsonl"
    r = run_cli("import-sms", "--config", config_path, two, one, "--history-for", "alex morgan", "--out", hist)
    assert r.returncode == 0, r.stderr
    new = later.received()
    assert f"{len(new)} newly stored" in r.stdout
    assert f"{2 * len(received)} already stored" in r.stdout
    with Store(db(config_path), readonly=True) as store:
        assert len(store.messages()) == len(received) + len(new)
        assert store.verify() == []

    # the history file: Alex's past texts, in the contract's record format, once each
    assert stat.S_IMODE(os.stat(hist).st_mode) == 0o600
    records = read_jsonl(hist)
    expected = [m for m in first.from_alex() + later.from_alex() if body_of(m)]
    assert f"history: {len(records)} messages from Alex Morgan" in r.stdout
    assert sorted(m.body for m in records) == sorted(body_of(m) for m in expected)
    assert all(m.channel == "sms" and normalize_sender(m.sender, "US") == "+14155550142" for m in records)
    assert len({m.id for m in records}) == len(records)


def test_a_broken_file_changes_nothing(config_path, backups, tmp_path):
    d, first, _ = backups
    good = d / "sms-2025-02-03.xml"
    r = run_cli("import-sms", "--config", config_path, good)
    assert r.returncode == 0, r.stderr
    before = counts(db(config_path))

    data = (d / "sms-2025-03-03.xml").read_bytes()
    cut = tmp_path / "sms-cut.xml"
    cut.write_bytes(data[: len(data) * 2 // 3])
    hist = tmp_path / "h.jsonl"
    # the good file first: it is checked, but nothing is stored until every file is
    r = run_cli("import-sms", "--config", config_path, good, cut, "--history-for", "Alex Morgan", "--out", hist)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "sms-cut.xml" in r.stderr and "truncated" in r.stderr
    assert r.stdout == ""
    assert counts(db(config_path)) == before
    assert not hist.exists() and not list(tmp_path.glob("*.part"))

    r = run_cli("import-sms", "--config", config_path, "--history-for", "Nobody", "--out", hist, good)
    assert r.returncode == 2 and "'Nobody' is not a [[blocked]] person" in r.stderr
    r = run_cli("import-sms", "--config", config_path, tmp_path / "missing.xml")
    assert r.returncode == 1 and "missing.xml: cannot read" in r.stderr
    assert counts(db(config_path)) == before


def test_history_only_stores_nothing(config_path, backups):
    d, first, _ = backups
    hist = d / "only.jsonl"
    r = run_cli("import-sms", "--config", config_path, d / "sms-2025-02-03.xml", "--history-for", "Alex Morgan",
                "--out", hist, "--history-only")
    assert r.returncode == 0, r.stderr
    assert len(read_jsonl(hist)) == len([m for m in first.from_alex() if body_of(m)])
    assert not db(config_path).exists()


def test_surrogate_pairs_split_across_read_chunks(config, model, tmp_path):
    """Real reads are 1 MiB: put pairs across the first three boundaries, at different offsets."""
    chunk = 1 << 20
    texts = ["one \U0001F600 two", "\U0001F44D\U0001F3FD done", "end \U0001F621\U0001F621"]
    items, date = [], 1_700_000_000_000
    for n, (text, cut) in enumerate(zip(texts, (3, 8, 11))):   # inside the high half, between, inside the low
        date += 1000
        pad = padding(0, date)
        items += [pad, Sms(ALEX[n], text, date + 500)]
        data = render(items, surrogates=True)
        at = data.index(b"&#", data.index(f'date="{date + 500}"'.encode())) + cut
        pad.text = "x" * ((n + 1) * chunk - at)
        data = render(items, surrogates=True)
        assert data.index(b"&#", data.index(f'date="{date + 500}"'.encode())) + cut == (n + 1) * chunk
    path = tmp_path / "sms-split.xml"
    path.write_bytes(render(items, surrogates=True))
    with Store(tmp_path / "db" / "s.db") as store:
        stats = import_backups(config, model, store, [path])
        bodies = {json.loads(r["record"])["body"] for r in store.messages()}
    assert stats.new == 3 and stats.sent_skipped == 3
    assert bodies == set(texts)


def test_history_writer_is_all_or_nothing(config, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(render([Sms(ALEX[0], "x", 1)])[:-20])
    out = tmp_path / "h.jsonl"
    with pytest.raises(BackupError):
        import_backups(config, None, None, [bad], history=HistoryWriter(config.blocked[0], out, "US"),
                       store_messages=False)
    assert not out.exists() and not (tmp_path / "h.jsonl.part").exists()
