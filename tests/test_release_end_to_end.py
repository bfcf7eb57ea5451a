"""The friend releases a held email on their page, in a real browser, and the
daemon moves it back into the inbox of a real Dovecot: the web process holds
no mail credentials, only the store connects them."""

from __future__ import annotations

import hashlib

from conftest_dovecot import wait_until
from dovecot import make_message

from screener.accounts import add_account
from screener.store import Store
from screener.web import create_app
from tests.webserve import chromium, login, serving

QUARANTINE = "Screener/Quarantine"
PASSWORD = "a long friend passphrase"


def sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def shas(server, folder):
    return sorted(m.sha256 for m in server.messages("sam", folder))


def test_friend_release_in_browser_reappears_in_the_inbox(dovecot, imap_config, run_daemon):
    config = imap_config()
    held = make_message(1, sender="alex.morgan@gmail.com", name="Alex Morgan",
                        body="you owe me an answer after everything I did for you")
    ordinary = make_message(2)
    dovecot.append_many("sam", "INBOX", [held, ordinary])
    daemon = run_daemon(config)
    wait_until(lambda: shas(dovecot, QUARANTINE) == [sha(held)], message="quarantine")
    assert shas(dovecot, "INBOX") == [sha(ordinary)]

    with Store(config.store.path) as store:
        add_account(store, "dana", "friend", PASSWORD)
        row = store.find(message_id=None, sha=sha(held))
    app = create_app(config, config.store.path)
    with serving(app) as base, chromium() as browser:
        page = browser.new_page()
        login(page, base, "dana", PASSWORD)
        page.goto(f"{base}/message/{row['id']}")
        page.get_by_role("button", name="Release to the inbox").click()
        assert "Release requested" in page.get_by_role("status").inner_text()

    wait_until(lambda: shas(dovecot, "INBOX") == sorted([sha(held), sha(ordinary)]), message="release")
    assert shas(dovecot, QUARANTINE) == []
    released = [m for m in dovecot.messages("sam", "INBOX") if m.sha256 == sha(held)][0]
    assert not released.seen                    # screening and release never mark it read
    with Store(config.store.path, readonly=True) as store:
        wait_until(lambda: store.get(row["id"])["state"] == "released")
        actions = [r[0] for r in store.conn.execute(
            "SELECT action FROM audit WHERE message = ? ORDER BY seq", (row["id"],))]
        assert "release_requested" in actions and "release_done" in actions
        assert store.verify() == []
    daemon.stop()
