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
