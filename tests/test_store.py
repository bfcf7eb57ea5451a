import json
import os
import sqlite3
import stat
import threading

import pytest

from screener.ingest import screen_into_store, screener_for, verdict_of
from screener.message import Message
from screener.store import Incoming, Store, StoreError, sha256
from screener.store.migrations import MIGRATIONS


def incoming(i, body="see you at 5", sender="friend@example.com", source="file"):
    msg = Message(id=f"m{i}", body=body, sender=sender)
    return Incoming(message=msg, raw=f"From: {sender}\n\n{body}".encode(), source=source, dedup_key=f"k{i}")


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "private" / "screener.db")
    yield s
    s.close()


def test_created_private(tmp_path, store):
    assert stat.S_IMODE(os.stat(tmp_path / "private").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


def test_migrations_from_empty_and_idempotent(tmp_path, store):
    names = [r[0] for r in store.conn.execute("SELECT name FROM migrations")]
    assert names == [name for name, _ in MIGRATIONS]
    again = Store(store.path)
    assert again.migrate() == []
    again.close()


def test_screen_into_store_dedups_and_audits(config, model, store):
    screener = screener_for(config, model, store)
    items = [incoming(1), incoming(2, "ur a pathetic liar and everyone knows it", "alex.morgan@gmail.com"),
             incoming(1)]
    out = screen_into_store(screener, store, items, "import")
    assert [o.new for o in out] == [True, True, False]
    held = store.get(out[1].row)
    assert held["state"] == "quarantined" and held["blocked_person"] == "Alex Morgan"
    assert verdict_of(held)["action"] == "quarantine"
    assert held["raw"] == items[1].raw and held["sha256"] == sha256(items[1].raw)
    again = screen_into_store(screener_for(config, model, store), store, items, "import")
    assert not any(o.new for o in again)
    assert store.verify() == []


def test_chain_detects_edit_and_delete(config, model, store):
    screen_into_store(screener_for(config, model, store), store, [incoming(i) for i in range(5)], "import")
    assert store.verify() == []
    raw = sqlite3.connect(store.path)
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("UPDATE audit SET detail = '{}' WHERE seq = 3")
    raw.commit()
    assert any("event 3 was changed" in p for p in store.verify())
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute("DELETE FROM audit WHERE seq = 4")
    raw.commit()
    assert any("4 is missing" in p for p in store.verify())
    raw.close()


def test_chain_detects_truncated_tail(config, model, store):
    screen_into_store(screener_for(config, model, store), store, [incoming(i) for i in range(3)], "import")
    raw = sqlite3.connect(store.path)
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
    raw.commit()
    raw.close()
    assert any("recorded head" in p for p in store.verify())


def test_original_bytes_cannot_change_or_be_deleted(config, model, store):
    out = screen_into_store(screener_for(config, model, store), store, [incoming(1)], "import")
    with pytest.raises(sqlite3.DatabaseError):
        store.conn.execute("UPDATE messages SET raw = x'00' WHERE id = ?", (out[0].row,))
    with pytest.raises(sqlite3.DatabaseError):
        store.conn.execute("DELETE FROM messages")
    with pytest.raises(sqlite3.DatabaseError):
        store.conn.execute("DELETE FROM audit")


def test_edited_original_detected(config, model, store):
    out = screen_into_store(screener_for(config, model, store), store, [incoming(1)], "import")
    raw = sqlite3.connect(store.path)
    raw.execute("DROP TRIGGER messages_raw_fixed")
    raw.execute("UPDATE messages SET raw = x'41' WHERE id = ?", (out[0].row,))
    raw.commit()
    raw.close()
    assert any("no longer match" in p for p in store.verify())


def test_reader_not_blocked_by_writer(config, model, store):
    screen_into_store(screener_for(config, model, store), store, [incoming(1)], "import")
    reader = Store(store.path, readonly=True)
    with store.write():
        store.set_state("x", "1")
        # a reader in another connection sees the last committed state without waiting
        assert reader.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 1
    reader.close()


def test_second_writer_gets_clear_error(store):
    other = Store(store.path, timeout=0.2)
    errors = []
    with store.write():
        def write():
            try:
                with other.write():
                    pass
            except StoreError as exc:
                errors.append(str(exc))
        t = threading.Thread(target=write)
        t.start()
        t.join()
    other.close()
    assert errors and "locked" in errors[0]


def test_backup_while_open(config, model, store, tmp_path):
    screen_into_store(screener_for(config, model, store), store, [incoming(i) for i in range(3)], "import")
    dest = store.backup(tmp_path / "backup" / "copy.db")
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    copy = Store(dest, readonly=True)
    assert copy.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 3
    assert copy.verify() == []
    copy.close()


def test_learned_state_carries_over(config, model, store):
    first = screener_for(config, model, store)
    screen_into_store(first, store, [incoming(1, "hi its me, new number. Al", "+14155550177")], "import")
    with store.write():
        store.add_alias("+14155550188", "blocked", "Alex Morgan", "friend", "friend:dana")
    later = screener_for(config, model, store)
    assert "+14155550177" in later.state.seen
    out = screen_into_store(later, store, [incoming(2, "ok", "+1 (415) 555-0188")], "import")
    assert out[0].verdict.sender_status == "blocked"


def test_style_profile_grows_from_held_messages(config, model, store):
    """With no history file, a blocked person's held messages give them a style profile."""
    from screener.ingest import held_texts

    bodies = [f"babe its me again, {w}. u know i never meant it, pls just answer x" for w in
              ("honestly", "seriously", "truly", "really", "swear down", "no joke", "for real", "i promise",
               "genuinely", "cross my heart", "on my life", "hand on heart")]
    items = [incoming(i, b, "alex.morgan@gmail.com") for i, b in enumerate(bodies)]
    screen_into_store(screener_for(config, model, store), store, items, "import")
    assert len(held_texts(store)["Alex Morgan"]) == len(bodies)
    assert "Alex Morgan" in screener_for(config, model, store).profiles


# -- migrations from every earlier schema, and several processes at once --------------------

def test_migrates_database_from_each_earlier_version(tmp_path, monkeypatch, config, model):
    import screener.store as store_mod

    assert len(MIGRATIONS) >= 2
    for k in range(1, len(MIGRATIONS)):
        path = tmp_path / f"v{k}" / "screener.db"
        monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS[:k])
        old = Store(path)
        screen_into_store(screener_for(config, model, old), old,
                          [incoming(1), incoming(2, "ur a pathetic liar", "alex.morgan@gmail.com")], "import")
        with old.write():
            old.set_state("kept", "yes")
        old.close()
        monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS)
        new = Store(path)
        names = [r[0] for r in new.conn.execute("SELECT name FROM migrations ORDER BY rowid")]
        assert names == [n for n, _ in MIGRATIONS]
        assert new.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 2
        assert new.get_state("kept") == "yes"
        assert new.verify() == []
        applied = [json.loads(r[0])["migration"] for r in
                   new.conn.execute("SELECT detail FROM audit WHERE action = 'migrate' ORDER BY seq")]
        assert applied == [n for n, _ in MIGRATIONS]
        # the newest schema works on the migrated file
        new.conn.execute("SELECT batch, next_at, attempted_at FROM alerts").fetchall()
        new.close()


WRITER = r"""
import sys, time
from screener.message import Message
from screener.store import Incoming, Store
store = Store(sys.argv[1], timeout=30)
print("ready", flush=True)
for i in range(int(sys.argv[2])):
    msg = Message(id=f"w{i}", body=f"note {i}", sender="friend@example.com")
    item = Incoming(message=msg, raw=f"note {i}".encode(), source="file", dedup_key=f"w{i}")
    with store.write():
        store.add(item, None, "error", "store", "test", error="test row")
        store.set_state("written", str(i + 1))
store.close()
"""

READER = r"""
import sys, time
from screener.store import Store
store = Store(sys.argv[1], readonly=True)
store.conn.execute("BEGIN")
n = store.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
print("holding", n, flush=True)
time.sleep(float(sys.argv[2]))
assert store.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == n   # its snapshot is stable
store.conn.execute("COMMIT")
print("done", flush=True)
"""


def _spawn(script, *args):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().split()[0] in ("ready", "holding")
    return proc


def test_reader_in_one_process_while_another_writes(store):
    writer = _spawn(WRITER, store.path, 150)
    reader = Store(store.path, readonly=True)
    seen, checks = 0, 0
    while writer.poll() is None or checks < 3:
        count = reader.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        assert count >= seen
        seen = count
        assert reader.verify() == []        # never a half-written chain
        checks += 1
    assert writer.wait(timeout=60) == 0, writer.stderr.read()
    assert reader.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 150
    assert checks > 3
    reader.close()


def test_long_reader_in_another_process_never_blocks_the_writer(tmp_path):
    path = tmp_path / "s" / "screener.db"
    writer = Store(path, timeout=0.5)
    reader = _spawn(READER, path, 2.0)       # holds a read snapshot for two seconds
    for i in range(20):
        with writer.write():                # would raise "locked" after 0.5 s if the reader blocked it
            writer.add(incoming(i), None, "error", "store", "test", error="x")
    assert reader.poll() is None, "the reader should still be holding its snapshot"
    assert reader.wait(timeout=30) == 0, reader.stderr.read()
    assert writer.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 20
    writer.close()


def test_backup_while_another_process_writes(store, tmp_path):
    writer = _spawn(WRITER, store.path, 150)
    copies = []
    while writer.poll() is None or not copies:
        dest = store.backup(tmp_path / "backups" / f"copy{len(copies)}.db")
        copy = Store(dest, readonly=True)
        count = copy.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        written = int(copy.get_state("written", "0"))
        assert copy.verify() == [] and count == written    # each copy is one consistent moment
        copies.append(count)
        copy.close()
    assert writer.wait(timeout=60) == 0, writer.stderr.read()
    assert copies == sorted(copies) and len(copies) >= 2


def sms(i, body, sender="+14155550177"):
    msg = Message(id=f"s{i}", body=body, sender=sender, channel="sms")
    return Incoming(message=msg, raw=json.dumps({"body": body}).encode(), source="file", dedup_key=f"s{i}")


def test_a_senders_evidence_carries_across_a_restart(config, model, store):
    """An introduction in one import and the turn to the relationship in the next add up as they
    would in one run: the store keeps what screening needs (each reason's person, the bodies)."""
    opener = sms(1, "hey!! is this marcus?? its tiffany, we matched last week")
    turn = sms(2, "so whats the deal with your ex?? do u still talk")
    first = screen_into_store(screener_for(config, model, store), store, [opener], "import")
    assert first[0].verdict.action == "deliver"
    after = screen_into_store(screener_for(config, model, store), store, [turn], "import")   # a new process
    details = [r.detail for r in after[0].verdict.reasons if r.signal == "pretext"]
    assert details and "introduced themselves in an earlier message" in details[0]


def test_carried_evidence_keeps_its_person_in_the_store_but_not_in_the_contract_record(config, model, store):
    from screener.ingest import screen_state

    out = screen_into_store(screener_for(config, model, store), store,
                            [sms(1, "I know you don't want to hear from me. Miss you. Alex")], "import")
    v = out[0].verdict
    assert any(r.signal == "self_identification" and r.person == "Alex Morgan" for r in v.reasons)
    stored = store.get(out[0].row)
    assert any(r.get("person") == "Alex Morgan" for r in json.loads(stored["reasons"]))
    assert all(set(r) == {"signal", "score", "detail"} for r in verdict_of(stored)["reasons"])
    assert v.sender_status in ("unknown", "suspected_alias")
    assert ("Alex Morgan", "self_identification") in screen_state(store).earlier[v.sender_key].best


def test_recent_attributed_senders_are_rebuilt_for_bursts(config, model, store):
    from screener.ingest import screen_state

    msg = Message(id="b1", body="ur a pathetic liar and everyone knows it, the house in Leeds is mine",
                  sender="+14155550190", channel="sms", date="2026-03-01T10:00:00+00:00")
    item = Incoming(message=msg, raw=b"b1", source="file", dedup_key="b1")
    out = screen_into_store(screener_for(config, model, store), store, [item], "import")
    assert out[0].verdict.sender_status == "suspected_alias"      # a new number, manipulative: held for Alex
    recent = screen_state(store).recent
    assert [(key, person) for _, key, person, _ in recent] == [(out[0].verdict.sender_key, "Alex Morgan")]
    assert "leeds" in recent[0][3]


def test_rebuilt_state_carries_a_go_betweens_evidence_as_the_live_run_did(config, model, store):
    """A go-between's pretext and locating questions carry to their later messages in one run;
    the state rebuilt from the store (a restart) must carry the same."""
    from screener.ingest import screen_state

    screener = screener_for(config, model, store)
    items = [sms(1, "Hi Sam, this is Jamie from the book club, hope you're well! Alex asked me to tell you "
                    "she misses you so much and is sorry. Please just call her", sender="+14155550111"),
             sms(2, "Sam it's Kerry. Alex is in bits, she asked me to pass on that she loves you. "
                    "Whats your new address? where are you living now", sender="+14155550111")]
    out = screen_into_store(screener, store, items, "import")
    assert [o.verdict.sender_status for o in out] == ["intermediary", "intermediary"]
    live = screener.state.earlier[out[0].verdict.sender_key]
    rebuilt = screen_state(store).earlier[out[0].verdict.sender_key]
    assert {"pretext", "locating"} <= {signal for _, signal in live.best}
    assert rebuilt.best.keys() == live.best.keys() and rebuilt.intro == live.intro


def test_rebuilt_state_reads_a_new_senders_first_texts_together_as_the_live_run_did(config, model, store):
    from screener.ingest import screen_state
    from screener.screening import SENDER_STYLE_MESSAGES

    screener = screener_for(config, model, store)
    items = [sms(i, f"text number {i} from a new number", sender="+14155550177") for i in range(SENDER_STYLE_MESSAGES + 2)]
    items.append(sms(99, "answer me", sender="(415) 555-0142"))
    out = screen_into_store(screener, store, items, "import")
    key, blocked = out[0].verdict.sender_key, out[-1].verdict
    live = screener.state.texts[key]
    assert len(live) == SENDER_STYLE_MESSAGES - 1 and live[0] == "text number 0 from a new number"
    rebuilt = screen_state(store).texts
    assert rebuilt[key] == live
    assert blocked.sender_status == "blocked" and blocked.sender_key not in rebuilt   # nothing kept for a blocked sender
