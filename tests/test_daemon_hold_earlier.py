"""A new account's earlier mail, delivered when nothing tied it to anyone, is moved to
quarantine once a later message shows it is the blocked person: against a real Dovecot,
flags untouched, with the inbox and staging set-ups, and resumed after a crash."""

from conftest_dovecot import wait_until
from dovecot import make_message
from test_daemon import QUARANTINE, assert_exactly_once, by_sha, folder_shas, sha

from screener.store import Store

NEW = "jamie.w.hinge@outlook.com"


def opener(n=1):
    return make_message(n, sender=NEW, name="Jamie W", subject="hello from Hinge",
                        body="Hey! It's Jamie from Hinge, glad we matched. What are you up to this weekend?")


def reveal(n=2):
    return make_message(n, sender=NEW, name="Jamie W", subject="fine",
                        body="ok yes it's me. Alex. I just wanted to see if you'd answer a stranger and not me")


def audit_actions(config, row):
    with Store(config.store.path, readonly=True) as store:
        return [r[0] for r in store.conn.execute("SELECT action FROM audit WHERE message = ? ORDER BY seq", (row,))]


def test_a_reveal_moves_the_senders_earlier_mail_out_of_the_inbox(dovecot, imap_config, run_daemon):
    config = imap_config()
    first = opener()
    dovecot.append("sam", "INBOX", first)
    daemon = run_daemon(config)
    wait_until(lambda: sha(first) in by_sha(config), message="first screened")
    assert by_sha(config)[sha(first)]["state"] == "delivered"
    assert folder_shas(dovecot, "INBOX") == [sha(first)]

    second = reveal()
    dovecot.append("sam", "INBOX", second)
    wait_until(lambda: set(folder_shas(dovecot, QUARANTINE)) == {sha(first), sha(second)}, message="both held")
    daemon.stop()

    assert folder_shas(dovecot, "INBOX") == []
    assert_exactly_once(dovecot, config, [first, second])
    row = by_sha(config)[sha(first)]
    assert (row["state"], row["location"], row["action"]) == ("quarantined", QUARANTINE, "quarantine")
    assert row["blocked_person"] == "Alex Morgan" and row["sender_status"] == "suspected_alias"
    assert row["raw"] == first
    assert audit_actions(config, row["id"]) == ["screened", "held_afterwards", "quarantined"]
    for m in dovecot.messages("sam", QUARANTINE):
        assert b"\\Seen" not in m.flags
    # releasing the message that showed who it was puts both back where they were
    with Store(config.store.path) as store:
        store.request_release(by_sha(config)[sha(second)]["id"], "friend:dana")
    daemon = run_daemon(config)
    wait_until(lambda: set(folder_shas(dovecot, "INBOX")) == {sha(first), sha(second)}, message="released")
    daemon.stop()
    assert {by_sha(config)[sha(r)]["state"] for r in (first, second)} == {"released"}
    assert folder_shas(dovecot, QUARANTINE) == []


def test_a_read_message_keeps_its_flag_when_held_afterwards(dovecot, imap_config, run_daemon):
    config = imap_config()
    first = opener()
    dovecot.append("sam", "INBOX", first, flags=[b"\\Seen", b"\\Flagged"])
    daemon = run_daemon(config)
    wait_until(lambda: sha(first) in by_sha(config))
    dovecot.append("sam", "INBOX", reveal())
    wait_until(lambda: sha(first) in folder_shas(dovecot, QUARANTINE))
    daemon.stop()
    [held] = [m for m in dovecot.messages("sam", QUARANTINE) if m.sha256 == sha(first)]
    assert set(held.flags) >= {b"\\Seen", b"\\Flagged"}


def test_staging_set_up(dovecot, imap_config, run_daemon):
    config = imap_config(folders=[], staging_folder="Staging")
    first = opener()
    dovecot.append("sam", "Staging", first)
    daemon = run_daemon(config)
    wait_until(lambda: folder_shas(dovecot, "INBOX") == [sha(first)], message="delivered through staging")
    second = reveal()
    dovecot.append("sam", "Staging", second)
    wait_until(lambda: set(folder_shas(dovecot, QUARANTINE)) == {sha(first), sha(second)}, message="both held")
    daemon.stop()
    assert folder_shas(dovecot, "INBOX") == [] and dovecot.messages("sam", "Staging") == []
    assert_exactly_once(dovecot, config, [first, second])


def test_a_crash_before_the_move_is_finished_at_the_next_start(dovecot, imap_config, run_daemon, model):
    """The store says "pending" before the move; a daemon that dies in between finishes it when it starts."""
    from screener.ingest import hold_earlier_in_store
    from screener.screening import Verdict

    config = imap_config()
    first = opener()
    dovecot.append("sam", "INBOX", first)
    daemon = run_daemon(config)
    wait_until(lambda: sha(first) in by_sha(config))
    daemon.stop()
    # what a daemon killed right after storing the revealing message leaves behind
    row = by_sha(config)[sha(first)]
    revealing = Verdict(id="later", action="quarantine", alert=False, sender_status="suspected_alias",
                        blocked_person="Alex Morgan", tactics={}, tags=[], logistics=[], reasons=[],
                        sender_key=row["sender_key"])
    from screener.message import Message
    with Store(config.store.path) as store, store.write():
        pending = hold_earlier_in_store(store, revealing, Message(id="later", body="x", sender=NEW), row["id"] + 1,
                                        "daemon")
    assert pending == [row["id"]]
    assert by_sha(config)[sha(first)]["state"] == "pending"
    assert folder_shas(dovecot, "INBOX") == [sha(first)]        # not moved yet
    daemon = run_daemon(config)
    wait_until(lambda: folder_shas(dovecot, QUARANTINE) == [sha(first)], message="resumed")
    daemon.stop()
    row = by_sha(config)[sha(first)]
    assert (row["state"], row["location"]) == ("quarantined", QUARANTINE)
    assert folder_shas(dovecot, "INBOX") == []


def test_earlier_mail_in_another_watched_folder_is_moved_at_once(dovecot, imap_config, run_daemon):
    """The opener sits in a folder another watch looks after; the watch that sees the reveal moves it."""
    config = imap_config(folders=["INBOX", "Friends"])
    first = opener()
    dovecot.append("sam", "Friends", first)
    daemon = run_daemon(config)
    wait_until(lambda: sha(first) in by_sha(config), message="first screened")
    assert by_sha(config)[sha(first)]["location"] == "Friends"
    second = reveal()
    dovecot.append("sam", "INBOX", second)
    wait_until(lambda: set(folder_shas(dovecot, QUARANTINE)) == {sha(first), sha(second)}, timeout=10,
               message="both held, without waiting for the other watch to reconnect")
    daemon.stop()
    assert folder_shas(dovecot, "Friends") == []
    row = by_sha(config)[sha(first)]
    assert (row["state"], row["location"], row["folder"]) == ("quarantined", QUARANTINE, "Friends")
