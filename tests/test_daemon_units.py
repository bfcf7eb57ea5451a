"""Pure parts of the daemon: response parsing, mail checks, config checks,
secret scrubbing, backoff, and what `status` says in each daemon state."""

import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from screener.config import ImapSettings, load_config
from screener.daemon import status
from screener.daemon.context import Backoff, RedactingFilter, Secrets
from screener.daemon.mailbox import CommandFailed, Mailbox
from screener.daemon.uid_sets import parse_copyuid, uid_set
from screener.errors import ConfigError
from screener.sources.mime import MimeError, check_email, message_id, parse_email
from screener.store import Store


def test_uid_sets_andparse_copyuid():
    assert uid_set("1:3,7,10:9") == [1, 2, 3, 7, 9, 10]
    assert parse_copyuid([b"1795 4:6,9 20:23"]) == ({4: 20, 5: 21, 6: 22, 9: 23}, 1795)
    assert parse_copyuid([b"1795 4:6 20"]) == ({}, None)          # sets of different sizes: ignored
    assert parse_copyuid([b"1 1 1", b"2 5 8"]) == ({5: 8}, 2)      # the latest response wins
    assert parse_copyuid([]) == ({}, None)
    assert parse_copyuid([b"9 1:4000000000 1:4000000000"]) == ({}, None)    # a hostile server


@pytest.mark.parametrize("raw, problem", [
    (b"", "empty"),
    (b"   \r\n", "empty"),
    (b"just some words\r\n\r\nand a body", "no header fields"),
    (b"From: a@b.example\r\nSub\x00ject: x\r\n\r\nbody", "NUL"),
])
def test_not_mail(raw, problem):
    with pytest.raises(MimeError, match=problem):
        check_email(raw)
    with pytest.raises(MimeError):
        parse_email(raw, "x", strict=True)


@pytest.mark.parametrize("raw", [
    b"Subject: no sender at all\r\n\r\nhello",
    b"From sam@example.org Mon Nov 16 10:00:00 2026\nFrom: a@b.example\n\nan mbox separator first",
    b"From: =?utf-8?q?broken?= <a@b>\nContent-Type: multipart/mixed; boundary=nowhere\n\nno parts",
    b"X-Weird-Header:value\n\n\xff\xfe not utf-8",
])
def test_odd_but_real_mail_is_accepted(raw):
    check_email(raw)
    assert parse_email(raw, "x", strict=True).id == "x"


def test_message_id():
    assert message_id(b"From: a@b\r\nMessage-ID:\r\n  <folded@x.example>\r\n\r\nbody") == "<folded@x.example>"
    assert message_id(b"message-id: <lower@x>\n\nMessage-ID: <in-body@x>") == "<lower@x>"
    assert message_id(b"From: a@b\r\n\r\nMessage-ID: <only-in-body@x>") == ""


IMAP = """
[[imap]]
name = "personal"
host = "{host}"
username = "sam"
password_env = "X"
tls = "{tls}"
{extra}
"""


@pytest.mark.parametrize("host, tls, extra, key, words", [
    ("imap.example.com", "none", "", "imap[0].tls", "password in clear"),
    ("imap.example.com", "ssl", 'staging_folder = "INBOX"', "imap[0].staging_folder", "must differ"),
    ("imap.example.com", "ssl", 'since = "last week"', "imap[0].since", "YYYY-MM-DD"),
    ("imap.example.com", "ssl", "folders = []", "imap[0].folders", "at least one folder"),
    ("imap.example.com", "ssl", "timeout_seconds = 0", "imap[0].timeout_seconds", "at least 1"),
])
def test_bad_imap_settings(tmp_path, host, tls, extra, key, words):
    path = tmp_path / "c.toml"
    path.write_text(IMAP.format(host=host, tls=tls, extra=extra))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f": {key}: " in str(err.value) and words in str(err.value) and "\n" not in str(err.value)


def test_good_imap_settings(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(IMAP.format(host="127.0.0.1", tls="none", extra='folders = []\nstaging_folder = "Staging"\n'
                                                                      'since = "2026-01-31"'))
    acc = load_config(path).imap[0]
    assert acc.staging_folder == "Staging" and acc.since == "2026-01-31" and acc.retry_max_seconds == 300


def test_mailbox_refuses_clear_text_to_another_host():
    settings = replace(ImapSettings(name="x", host="imap.example.com", username="sam", password_env="X"), tls="none")
    with pytest.raises(CommandFailed, match="without TLS"):
        Mailbox(settings, "secret").connect()


def test_secrets_are_scrubbed_from_log_records():
    secrets = Secrets()
    secrets.add('pa"ss\\word')
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "sent %s and %s", ('pa"ss\\word', 'pa\\"ss\\\\word'),
                               None)
    assert RedactingFilter(secrets).filter(record)
    assert record.getMessage() == "sent *** and ***"


def test_backoff_doubles_up_to_the_limit():
    backoff = Backoff(10)
    assert [backoff.next() for _ in range(6)] == [1, 2, 4, 8, 10, 10]
    backoff.reset()
    assert backoff.next() == 1


def _config(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(IMAP.format(host="127.0.0.1", tls="none", extra="") + f'\n[store]\npath = "{tmp_path}/s.db"\n')
    return load_config(path)


def test_status_of_a_store_the_daemon_never_used(tmp_path):
    config = _config(tmp_path)
    Store(config.store.path).close()
    with Store(config.store.path, readonly=True) as store:
        text = status.render(status.collect(config, store))
    assert text.startswith("daemon: has never run on this store")
    assert "INBOX: stopped; not screened yet" in text and "today: 0 screened" in text


def test_status_of_a_killed_daemon(tmp_path):
    config = _config(tmp_path)
    with Store(config.store.path) as store:
        store.run_started(2 ** 22 + 12345)      # no such process
        with store.write():
            store.set_watermark("personal", "INBOX", 77, 12)
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    with Store(config.store.path, readonly=True) as store:
        facts = status.collect(config, store, later)
        text = status.render(facts, later)
    assert facts["daemon"]["state"] == "gone"
    assert "daemon: NOT running (process gone); last heartbeat 5 min ago" in text
    assert "INBOX: stopped; last screened UID 12 (UIDVALIDITY 77)" in text


def test_progress_lines_without_a_terminal(caplog, monkeypatch):
    from screener.cli_daemon import Progress

    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    caplog.set_level(logging.INFO, logger="screener.daemon")
    progress = Progress()
    progress("personal/INBOX", 3, 4)            # a few new messages: not a backfill, nothing said
    progress("personal/INBOX", 100, 10000)
    progress("personal/INBOX", 200, 10000)      # within 10 s of the last line: quiet
    progress("personal/INBOX", 10000, 10000)
    progress.close()
    assert [r.getMessage() for r in caplog.records] == ["personal/INBOX: screened 100 of 10000",
                                                        "personal/INBOX: screened 10000 of 10000"]


def test_status_of_a_daemon_killed_a_moment_ago_and_of_a_hung_one(tmp_path):
    """A recorded pid that is gone is 'NOT running' at once (no waiting for the heartbeat to go stale); a live
    pid with a stale heartbeat is 'NOT running (no heartbeat)' (hung, or it cannot write its store)."""
    import os

    config = _config(tmp_path)
    with Store(config.store.path) as store:
        store.run_started(2 ** 22 + 12345)
    with Store(config.store.path, readonly=True) as store:
        text = status.render(status.collect(config, store))
    assert "daemon: NOT running (process gone); last heartbeat 0 s ago" in text
    assert "mail is not being screened" in text
    with Store(config.store.path) as store:
        store.run_started(os.getpid())      # alive, but its heartbeat stops
    later = datetime.now(timezone.utc) + timedelta(minutes=2)
    with Store(config.store.path, readonly=True) as store:
        facts = status.collect(config, store, later)
        text = status.render(facts, later)
    assert facts["daemon"]["state"] == "not responding"
    assert "daemon: NOT running (no heartbeat); last heartbeat 2 min ago" in text
    assert "killed, is hung, or cannot write its store" in text


def test_a_folder_another_connection_created_meanwhile_is_not_a_fault():
    import imaplib

    class Racing:   # the folder appears between our look and our create
        def __init__(self):
            self.looks = 0

        def folder_exists(self, name):
            self.looks += 1
            return self.looks > 1

        def create_folder(self, name):
            raise imaplib.IMAP4.error("create failed: [ALREADYEXISTS] Mailbox already exists")

    box = Mailbox(ImapSettings(name="x", host="127.0.0.1", username="sam", password_env="X"), "secret")
    box.client = Racing()
    assert box.ensure_folder("Screener/Quarantine") is False

    class Refusing(Racing):
        def folder_exists(self, name):
            return False

    box.client = Refusing()
    with pytest.raises(CommandFailed, match="ALREADYEXISTS"):
        box.ensure_folder("Screener/Quarantine")
