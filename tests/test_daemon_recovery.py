"""Crash windows, recreated exactly: the store and the server are left as a
crash at each instant of a move or a release would leave them, then the daemon
starts again and must finish the job with every message in exactly one place."""

from collections import Counter

from conftest_dovecot import wait_until
from test_daemon import QUARANTINE, blocked, by_sha, clean, folder_shas, rows, sha

from screener.daemon import folder_sync, moves
from screener.daemon.mailbox import ConnectionLost
from screener.store import Store


def crash_before_moving(monkeypatch):
    """Every batch is stored as usual, then the 'process dies' before the move."""
    def crash(watch, mailbox, store, pairs, dest, state):
        watch.ctx.stop.set()
        raise ConnectionLost("simulated crash between storing and moving")

    monkeypatch.setattr(moves, "move_batch", crash)


def test_interrupted_quarantine_moves_are_finished(dovecot, imap_config, run_daemon, monkeypatch):
    config = imap_config()
    raws = [blocked(i) for i in range(5)] + [blocked(5, message_id="")]
    dovecot.append_many("sam", "INBOX", raws + [clean(9)])
    with monkeypatch.context() as patch:
        crash_before_moving(patch)
        first = run_daemon(config)
        wait_until(lambda: len(rows(config)) == 7)
        first.stop()
    assert sorted(r["state"] for r in rows(config)) == ["delivered"] + ["pending"] * 6

    # Recreate what a crash at each instant leaves on the server.
    with dovecot.client() as c:
        c.select_folder("INBOX")
        uid = {m.sha256: m.uid for m in dovecot.messages("sam", "INBOX")}
        # raws[0]: crashed before MOVE: still in INBOX.
        c.move([uid[sha(raws[1])]], QUARANTINE)            # MOVE done, not recorded
        c.copy([uid[sha(raws[2])]], QUARANTINE)            # COPY done, nothing else
        c.copy([uid[sha(raws[3])]], QUARANTINE)            # COPY and \Deleted done, not expunged
        c.add_flags([uid[sha(raws[3])]], [b"\\Deleted"])
        c.add_flags([uid[sha(raws[4])]], [b"\\Deleted"])   # the user deleted this one meanwhile
        c.uid_expunge([uid[sha(raws[4])]])
        # raws[5] has no Message-ID and is still in INBOX.

    daemon = run_daemon(config, once=True)
    daemon.thread.join(60)
    assert daemon.result == 0

    assert Counter(folder_shas(dovecot, QUARANTINE)) == Counter(sha(r) for i, r in enumerate(raws) if i != 4)
    assert folder_shas(dovecot, "INBOX") == [sha(clean(9))] or len(folder_shas(dovecot, "INBOX")) == 1
    stored = by_sha(config)
    for i, raw in enumerate(raws):
        row = stored[sha(raw)]
        assert row["state"] == "quarantined"
        assert row["location"] == ("store" if i == 4 else QUARANTINE)
    q_uids = {m.sha256: m.uid for m in dovecot.messages("sam", QUARANTINE)}
    for i in (0, 1, 2, 3, 5):
        assert stored[sha(raws[i])]["uid"] == q_uids[sha(raws[i])]
    with Store(config.store.path, readonly=True) as store:
        assert store.verify() == []
        screened = Counter(r[0] for r in store.conn.execute("SELECT message FROM audit WHERE action = 'screened'"))
        assert set(screened.values()) == {1} and len(screened) == 7


def test_interrupted_releases_are_finished_without_duplicates(dovecot, imap_config, run_daemon):
    config = imap_config()
    raws = [blocked(i) for i in range(3)]
    dovecot.append_many("sam", "INBOX", raws)
    daemon = run_daemon(config)
    wait_until(lambda: len(folder_shas(dovecot, QUARANTINE)) == 3)
    daemon.stop()
    stored = by_sha(config)
    with Store(config.store.path) as store:
        for raw in raws:
            store.request_release(stored[sha(raw)]["id"], "friend:dana")
    with dovecot.client() as c:
        c.select_folder(QUARANTINE)
        uid = {m.sha256: m.uid for m in dovecot.messages("sam", QUARANTINE)}
        c.move([uid[sha(raws[1])]], "INBOX")     # moved back, not recorded
        c.copy([uid[sha(raws[2])]], "INBOX")     # copied back, not expunged from quarantine

    daemon = run_daemon(config, once=True)
    daemon.thread.join(60)
    assert daemon.result == 0
    assert Counter(folder_shas(dovecot, "INBOX")) == Counter(sha(r) for r in raws)
    assert folder_shas(dovecot, QUARANTINE) == []
    with Store(config.store.path, readonly=True) as store:
        assert [r["status"] for r in store.conn.execute("SELECT status FROM releases")] == ["done"] * 3
        assert {r["state"] for r in store.messages()} == {"released"}
        assert len(store.messages()) == 3


def test_uidvalidity_change_rescans_without_duplicates(dovecot, imap_config, run_daemon, caplog):
    config = imap_config()
    first = [clean(1), blocked(2), clean(3)]
    dovecot.append_many("sam", "INBOX", first)
    daemon = run_daemon(config)
    wait_until(lambda: len(rows(config)) == 3 and len(folder_shas(dovecot, QUARANTINE)) == 1)
    old = dovecot.uidvalidity("sam", "INBOX")
    dovecot.set_uidvalidity("sam", "INBOX", old + 1000)
    later = [blocked(4), clean(5)]
    dovecot.append_many("sam", "INBOX", later)
    wait_until(lambda: len(rows(config)) == 5, message="after the UIDVALIDITY change")
    wait_until(lambda: sha(later[0]) in folder_shas(dovecot, QUARANTINE))
    daemon.stop()
    assert any("UIDVALIDITY changed" in r.getMessage() for r in caplog.records)
    assert Counter(r["sha256"] for r in rows(config)) == Counter(sha(r) for r in first + later)
    assert sorted(folder_shas(dovecot, "INBOX")) == sorted(sha(r) for r in (first[0], first[2], later[1]))
    with Store(config.store.path, readonly=True) as store:
        assert store.watermark("personal", "INBOX")[0] == old + 1000
        assert store.conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'uidvalidity_changed'").fetchone()[0] == 1


def test_batches_are_cut_by_size(monkeypatch, dovecot, imap_config, run_daemon):
    monkeypatch.setattr(folder_sync, "BATCH_BYTES", 3000)
    batches = []
    original = folder_sync.FolderWatch._screen_batch

    def spy(self, mailbox, store, uids, raws):
        batches.append(list(uids))
        return original(self, mailbox, store, uids, raws)

    monkeypatch.setattr(folder_sync.FolderWatch, "_screen_batch", spy)
    config = imap_config()
    small = [clean(i) for i in range(3)]
    big = clean(9, body="\n".join(f"Line {k} of the garden club minutes." for k in range(120)))
    dovecot.append_many("sam", "INBOX", small[:2] + [big] + small[2:])
    daemon = run_daemon(config)
    wait_until(lambda: len(rows(config)) == 4)
    daemon.stop()
    assert batches == [[1, 2], [3], [4]]
    with Store(config.store.path, readonly=True) as store:
        assert store.watermark("personal", "INBOX")[1] == 4
