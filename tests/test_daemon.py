"""The mailbox daemon against a real Dovecot: backfill, push, quarantine by MOVE
and by the COPY fallback, \\Seen untouched, releases, fail-closed staging."""

import hashlib
import time
from collections import Counter

from conftest_dovecot import wait_until
from dovecot import make_message

from screener.store import Store

QUARANTINE = "Screener/Quarantine"


def blocked(n, **kw):
    kw.setdefault("body", "You think you can just ignore me? After everything I did for you. Answer me.")
    return make_message(n, sender="alex.morgan@gmail.com", name="Alex Morgan", **kw)


def clean(n, **kw):
    return make_message(n, **kw)


def sha(raw):
    return hashlib.sha256(raw).hexdigest()


def rows(config):
    with Store(config.store.path, readonly=True) as store:
        return [dict(r) for r in store.conn.execute("SELECT * FROM messages ORDER BY id")]


def by_sha(config):
    return {r["sha256"]: r for r in rows(config)}


def folder_shas(server, folder):
    return [m.sha256 for m in server.messages("sam", folder)]


def assert_exactly_once(server, config, raws):
    """Every message in exactly one of the folders, stored (screened) exactly once."""
    where = Counter()
    for folder in ("INBOX", QUARANTINE):
        where.update(folder_shas(server, folder))
    stored = Counter(r["sha256"] for r in rows(config))
    for raw in raws:
        assert where[sha(raw)] == 1, f"message in {where[sha(raw)]} places"
        assert stored[sha(raw)] == 1, f"message stored {stored[sha(raw)]} times"


def test_backfill_then_push(dovecot, imap_config, run_daemon):
    config = imap_config()
    old = [clean(1), blocked(2), clean(3), blocked(4)]
    dovecot.append("sam", "INBOX", old[0], flags=[b"\\Seen"])
    dovecot.append_many("sam", "INBOX", old[1:])
    daemon = run_daemon(config)
    wait_until(lambda: len(folder_shas(dovecot, QUARANTINE)) == 2, message="backfill")
    assert set(folder_shas(dovecot, QUARANTINE)) == {sha(old[1]), sha(old[3])}
    assert set(folder_shas(dovecot, "INBOX")) == {sha(old[0]), sha(old[2])}

    fresh = [blocked(5), clean(6)]
    started = time.monotonic()
    dovecot.append_many("sam", "INBOX", fresh)
    wait_until(lambda: sha(fresh[0]) in folder_shas(dovecot, QUARANTINE), timeout=10, message="push")
    assert time.monotonic() - started < 5
    wait_until(lambda: len(rows(config)) == 6)
    daemon.stop()

    assert_exactly_once(dovecot, config, old + fresh)
    stored = by_sha(config)
    for raw in old + fresh:
        row = stored[sha(raw)]
        held = raw in (old[1], old[3], fresh[0])
        assert row["action"] == ("quarantine" if held else "deliver")
        assert row["state"] == ("quarantined" if held else "delivered")
        assert row["location"] == (QUARANTINE if held else "INBOX")
        assert row["folder"] == "INBOX" and row["source"] == "imap" and row["dedup_key"] == row["sha256"]
        assert row["raw"] == raw and row["message_id"]
    assert stored[sha(old[1])]["blocked_person"] == "Alex Morgan"
    # \Seen is never set by screening: only the one that was read before is seen.
    flags = {m.sha256: m.seen for f in ("INBOX", QUARANTINE) for m in dovecot.messages("sam", f)}
    assert flags == {sha(raw): raw is old[0] for raw in old + fresh}
    with Store(config.store.path, readonly=True) as store:
        assert store.verify() == []
        mark = store.watermark("personal", "INBOX")
        assert mark == (dovecot.uidvalidity("sam", "INBOX"), 6)
        assert store.conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'screened'").fetchone()[0] == 6
        run = store.conn.execute("SELECT * FROM runs").fetchone()
        assert run["status"] == "stopped" and run["stopped_at"]


def test_copy_fallback_expunges_only_the_moved_message(dovecot, imap_config, run_daemon):
    config = imap_config()
    deleted_by_user = clean(1)
    dovecot.append("sam", "INBOX", deleted_by_user, flags=[b"\\Deleted"])
    raws = [blocked(2), clean(3), blocked(4)]
    dovecot.append_many("sam", "INBOX", raws)
    daemon = run_daemon(config, allow_move=False)
    wait_until(lambda: len(folder_shas(dovecot, QUARANTINE)) == 2)
    daemon.stop()
    inbox = dovecot.messages("sam", "INBOX")
    # The user's own \Deleted message is still there: the daemon expunged by UID, not the whole folder.
    assert {m.sha256: m.flags for m in inbox} == {sha(deleted_by_user): (b"\\Deleted",), sha(raws[1]): ()}
    assert all(b"\\Deleted" not in m.flags for m in dovecot.messages("sam", QUARANTINE))
    held = [r for r in rows(config) if r["action"] == "quarantine"]
    assert {r["state"] for r in held} == {"quarantined"}
    with Store(config.store.path, readonly=True) as store:
        vias = [e["detail"] for e in store.conn.execute("SELECT detail FROM audit WHERE action = 'quarantined'")]
        assert len(vias) == 2 and all('"via":"copy"' in v for v in vias)


def test_release_returns_the_message_and_it_is_never_requarantined(dovecot, imap_config, run_daemon):
    config = imap_config()
    raw = blocked(1)
    dovecot.append("sam", "INBOX", raw)
    daemon = run_daemon(config)
    wait_until(lambda: folder_shas(dovecot, QUARANTINE) == [sha(raw)])
    row = by_sha(config)[sha(raw)]
    with Store(config.store.path) as store:
        release = store.request_release(row["id"], "friend:dana")
    wait_until(lambda: folder_shas(dovecot, "INBOX") == [sha(raw)], message="release")
    assert folder_shas(dovecot, QUARANTINE) == []
    with Store(config.store.path, readonly=True) as store:
        wait_until(lambda: store.get(row["id"])["state"] == "released")
        got = store.get(row["id"])
        assert got["location"] == "INBOX" and got["folder"] == "INBOX"
        done = store.conn.execute("SELECT * FROM releases WHERE id = ?", (release,)).fetchone()
        assert done["status"] == "done" and "INBOX" in done["outcome"]
        new_uid = dovecot.messages("sam", "INBOX")[0].uid
        assert got["uid"] == new_uid
        # The daemon sees the released message arrive with a new UID and leaves it alone.
        wait_until(lambda: store.watermark("personal", "INBOX")[1] >= new_uid)
    time.sleep(0.5)
    daemon.stop()
    assert folder_shas(dovecot, "INBOX") == [sha(raw)]
    assert folder_shas(dovecot, QUARANTINE) == []
    assert len(rows(config)) == 1 and rows(config)[0]["state"] == "released"
    assert not dovecot.messages("sam", "INBOX")[0].seen


def test_fail_closed_staging_folder(dovecot, imap_config, run_daemon):
    config = imap_config(folders=[], staging_folder="Staging")
    raws = [clean(1), blocked(2), make_message(3, sender="dana@example.net", name="Dana Lee")]
    dovecot.append_many("sam", "Staging", raws)
    daemon = run_daemon(config)
    wait_until(lambda: not dovecot.messages("sam", "Staging") and len(folder_shas(dovecot, "INBOX")) == 2)
    assert folder_shas(dovecot, QUARANTINE) == [sha(raws[1])]
    later = blocked(4)
    dovecot.append("sam", "Staging", later)
    wait_until(lambda: sha(later) in folder_shas(dovecot, QUARANTINE))
    # A release of a message that arrived through staging goes to the inbox, not back to staging.
    with Store(config.store.path) as store:
        store.request_release(by_sha(config)[sha(raws[1])]["id"], "friend:dana")
    wait_until(lambda: sha(raws[1]) in folder_shas(dovecot, "INBOX"))
    daemon.stop()
    stored = by_sha(config)
    assert {stored[sha(r)]["location"] for r in (raws[0], raws[2])} == {"INBOX"}
    assert {stored[sha(r)]["state"] for r in (raws[0], raws[2])} == {"delivered"}
    assert stored[sha(raws[1])]["state"] == "released"
    assert dovecot.messages("sam", "Staging") == []
    assert len(stored) == 4


def test_unparseable_message_is_kept_as_an_error_and_left_in_place(dovecot, imap_config, run_daemon, caplog):
    config = imap_config()
    corrupt = b"\x01\x02 this is not an email message at all \xff\xfe\r\nno headers here\r\n"
    dovecot.append("sam", "INBOX", corrupt)
    good = blocked(2)
    dovecot.append("sam", "INBOX", good)
    daemon = run_daemon(config)
    wait_until(lambda: len(rows(config)) == 2)
    daemon.stop()
    inbox = dovecot.messages("sam", "INBOX")
    assert len(inbox) == 1
    stored = rows(config)
    error = next(r for r in stored if r["state"] == "error")
    assert error["raw"] == inbox[0].raw and error["location"] == "INBOX" and error["action"] is None
    assert error["error"] == "is not mail: it has no header fields at all"
    assert folder_shas(dovecot, QUARANTINE) == [sha(good)]
    lines = [r.getMessage() for r in caplog.records if "is not mail" in r.getMessage()]
    assert len(lines) == 1 and "left in place" in lines[0]


def test_a_message_the_screener_chokes_on_is_kept_as_an_error(dovecot, imap_config, run_daemon, monkeypatch):
    from screener.daemon.context import Screening

    original = Screening.screen

    def fragile(self, store, messages):
        if any("POISON" in m.body for m in messages):
            raise ValueError("the screener broke")
        return original(self, store, messages)

    monkeypatch.setattr(Screening, "screen", fragile)
    config = imap_config()
    raws = [clean(1), clean(2, body="POISON pill"), blocked(3)]
    dovecot.append_many("sam", "INBOX", raws)
    daemon = run_daemon(config)
    wait_until(lambda: len(rows(config)) == 3)
    daemon.stop()
    stored = by_sha(config)
    assert stored[sha(raws[1])]["state"] == "error" and "ValueError" in stored[sha(raws[1])]["error"]
    assert stored[sha(raws[0])]["state"] == "delivered"
    assert stored[sha(raws[2])]["state"] == "quarantined"
    assert sorted(folder_shas(dovecot, "INBOX")) == sorted([sha(raws[0]), sha(raws[1])])


def test_since_limits_the_backfill_to_recent_mail(dovecot, imap_config, run_daemon):
    from datetime import datetime, timezone

    config = imap_config(since="2026-01-01")
    old = blocked(1)
    dovecot.append("sam", "INBOX", old, date=datetime(2025, 6, 1, tzinfo=timezone.utc))
    recent = [blocked(2), clean(3)]
    dovecot.append_many("sam", "INBOX", recent)
    daemon = run_daemon(config)
    wait_until(lambda: len(rows(config)) == 2)
    daemon.stop()
    assert set(by_sha(config)) == {sha(r) for r in recent}
    assert folder_shas(dovecot, QUARANTINE) == [sha(recent[0])]
    assert sha(old) in folder_shas(dovecot, "INBOX")


def test_alerts_after_each_stored_batch_and_periodic_jobs(dovecot, imap_config, run_daemon, monkeypatch):
    from screener import alerts, schedule
    from screener.daemon import runner

    delivered, ticks = [], []
    monkeypatch.setattr(alerts, "deliver_pending", lambda config, store: delivered.append(
        store.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]))
    monkeypatch.setattr(schedule, "tick", lambda config, store: ticks.append(1))
    monkeypatch.setattr(runner, "TICK_SECONDS", 0.5)
    config = imap_config()
    daemon = run_daemon(config)
    dovecot.append("sam", "INBOX", blocked(1))
    wait_until(lambda: delivered and delivered[-1] == 1, message="alerts after the first message")
    dovecot.append("sam", "INBOX", clean(2))
    wait_until(lambda: delivered[-1] == 2, message="alerts after the second message")
    wait_until(lambda: len(ticks) >= 2)
    daemon.stop()


def test_mail_arriving_just_before_idle_starts_is_not_missed(dovecot, imap_config, run_daemon, monkeypatch):
    """Dovecot announces in IDLE only what arrives after IDLE started; the daemon must still see a message
    that lands between its last search and IDLE, or while it screens a batch, within seconds."""
    from screener.daemon import folder_sync
    from screener.daemon.mailbox import Mailbox

    gap = [blocked(1), blocked(2)]
    during = blocked(3)
    original_idle, original_batch = Mailbox.idle_start, folder_sync.FolderWatch._screen_batch

    def idle_start(self):
        if gap:
            dovecot.append("sam", "INBOX", gap.pop(0))
        return original_idle(self)

    def screen_batch(self, *args):
        result = original_batch(self, *args)
        if during not in sent:
            sent.append(during)
            dovecot.append("sam", "INBOX", during)
        return result

    sent = []
    monkeypatch.setattr(Mailbox, "idle_start", idle_start)
    monkeypatch.setattr(folder_sync.FolderWatch, "_screen_batch", screen_batch)
    config = imap_config(idle_seconds=600)
    daemon = run_daemon(config)
    wait_until(lambda: len(folder_shas(dovecot, QUARANTINE)) == 3, timeout=12)
    daemon.stop()
    assert folder_shas(dovecot, "INBOX") == []


def test_a_once_run_from_cron_delivers_the_summary_that_is_due(dovecot, tmp_path, monkeypatch, run_daemon):
    from conftest_dovecot import PASSWORD_ENV, config_text

    from screener.config import load_config

    monkeypatch.setenv(PASSWORD_ENV, dovecot.users["sam"])
    path = tmp_path / "config.toml"
    path.write_text(config_text(dovecot, tmp_path / "data" / "screener.db")
                    + '\n[summary]\nevery = "7d"\nfile = "summary.txt"\n')
    config = load_config(path)
    dovecot.append_many("sam", "INBOX", [blocked(1), clean(2)])
    daemon = run_daemon(config, once=True)
    daemon.thread.join(60)
    assert daemon.result == 0
    summary = (tmp_path / "summary.txt").read_text()
    assert summary.startswith("Your screener summary")
    assert "After everything I did for you" not in summary
