"""The daemon's periodic tick: the summary delivered when due (file, mailbox), digests recorded, never raising."""

import email
import hashlib
import email.policy
import logging
import os
from datetime import timedelta

import pytest
from conftest import CONFIG, run_cli
from report_corpus import NOW, assert_no_leak, demo_corpus, html_text

from screener import own_mail
from screener.config import load_config
from screener.errors import ConfigError
from screener.imap_append import MailboxError, append_message
from screener.schedule import render, summary_email, tick
from screener.store import Store


def test_summary_file_written_when_due_and_digest_recorded(tmp_path, model):
    corpus = demo_corpus(tmp_path, model, extra='[summary]\nevery = "7d"\nfile = "out/summary.txt"\n')
    store, config = corpus.store, corpus.config
    out = tmp_path / "out" / "summary.txt"
    tick(config, store, now=NOW)
    first = out.read_text()
    assert (os.stat(out).st_mode & 0o777) == 0o600
    assert first.startswith("Your screener summary\nPeriod: Sat 14 Nov to Sat 21 Nov")
    assert "Co-parenting digest" in first and "(new)" not in first
    assert_no_leak(first, corpus.held_records())
    assert store.conn.execute("SELECT COUNT(*) FROM digests").fetchone()[0] == 1
    out.write_text("read by the user")
    tick(config, store, now=NOW + timedelta(days=6, hours=23))          # not due yet
    assert out.read_text() == "read by the user"
    tick(config, store, now=NOW + timedelta(days=7))
    second = out.read_text()
    assert second.startswith("Your screener summary\nPeriod: Sat 21 Nov to Sat 28 Nov")
    assert store.conn.execute("SELECT COUNT(*) FROM digests").fetchone()[0] == 2
    tick(config, store, now=NOW + timedelta(days=17))                 # the daemon was off for three days
    assert out.read_text().startswith("Your screener summary\nPeriod: Sat 28 Nov to Tue 8 Dec")
    assert store.conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'summary_delivered'").fetchone()[0] == 3
    assert store.verify() == []
    corpus.close()


def test_html_file_and_a_failing_mailbox_retried_later(tmp_path, model, caplog, monkeypatch):
    caplog.set_level(logging.ERROR, logger="screener")
    monkeypatch.setenv("SCREENER_TEST_IMAP_PW", "imap-secret-123")
    extra = ('[summary]\nevery = "1d"\nfile = "out/summary.html"\nformat = "html"\nmailbox = "home"\n'
             '[[imap]]\nname = "home"\nhost = "127.0.0.1"\nport = 9\ntls = "none"\nusername = "hannah"\n'
             'password_env = "SCREENER_TEST_IMAP_PW"\ntimeout_seconds = 5\n')
    corpus = demo_corpus(tmp_path, model, extra=extra)
    store, config = corpus.store, corpus.config
    tick(config, store, now=NOW)                                          # must not raise
    page = (tmp_path / "out" / "summary.html").read_text()
    assert page.startswith("<!doctype html>") and "data:image/png;base64," in page
    assert_no_leak(page, corpus.held_records(), "html")
    assert "summary to mailbox failed, retrying in 15 minutes" in caplog.text
    assert "imap-secret-123" not in caplog.text
    assert store.get_state("summary.mailbox.retry_at") == "2026-11-21T12:15:00Z"
    assert store.get_state("summary.file.delivered_at") == "2026-11-21T12:00:00Z"
    assert store.get_state("summary.mailbox.delivered_at") is None
    caplog.clear()
    tick(config, store, now=NOW + timedelta(minutes=10))               # waits for its retry time
    assert caplog.text == ""
    tick(config, store, now=NOW + timedelta(minutes=16))
    assert "summary to mailbox failed" in caplog.text
    assert store.conn.execute("SELECT COUNT(*) FROM digests").fetchone()[0] == 1   # only the file was delivered
    corpus.close()


def test_summary_email_is_text_and_html_with_the_chart_inline(tmp_path, model):
    corpus = demo_corpus(tmp_path, model)
    account = type("Account", (), {"username": "hannah"})()
    rendered = render(corpus.config, corpus.store, timedelta(days=28), NOW)
    raw = summary_email(corpus.config, account, rendered)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["From"] == "screener <hannah.whitfield@example.org>" and msg["X-Screener"] == "summary"
    assert msg["Subject"] == "Your screener summary (Sat 24 Oct to Sat 21 Nov)"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    page = msg.get_body(("html",)).get_content()
    assert "held back" in text and 'src="cid:trend-chart"' in page
    (image,) = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<trend-chart>" and image.get_content() == rendered.png
    held = corpus.held_records()
    assert_no_leak(text, held)
    assert_no_leak(page, held, "html")
    assert_no_leak(msg["Subject"], held)
    assert html_text(page)[1][0].startswith("Bar chart of held messages per week")
    corpus.close()


def test_never_and_bad_durations(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(mode="no_contact") + '[store]\npath = "s/screener.db"\n'
                    '[summary]\nevery = "never"\nfile = "out.txt"\n')
    config = load_config(path)
    with Store.for_config(config) as store:
        tick(config, store)
    assert not (tmp_path / "out.txt").exists()
    path.write_text(CONFIG.format(mode="no_contact") + '[summary]\nevery = "weekly"\n')
    with pytest.raises(ConfigError, match="summary.every: must be a duration like 12h, 7d or 2w"):
        load_config(path)


def test_unwritable_destination_is_logged_not_raised(tmp_path, caplog):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "summary.txt").mkdir()                    # a folder where the file should go
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(mode="no_contact") + '[store]\npath = "s/screener.db"\n'
                    '[summary]\nfile = "taken/summary.txt"\n')
    config = load_config(path)
    with Store.for_config(config) as store:
        tick(config, store)
        assert store.get_state("summary.file.retry_at") is not None
    assert "summary to file failed" in caplog.text


def test_append_errors_are_clear_and_hold_no_password(monkeypatch):
    account = type("Account", (), dict(name="home", host="127.0.0.1", port=9, tls="none", username="hannah",
                                       password_env="SCREENER_TEST_IMAP_PW", password_command="",
                                       timeout_seconds=5))()
    with pytest.raises(MailboxError, match="SCREENER_TEST_IMAP_PW is not set"):
        append_message(account, "INBOX", b"Subject: x\r\n\r\nx\r\n")
    monkeypatch.setenv("SCREENER_TEST_IMAP_PW", "imap-secret-456")
    with pytest.raises(MailboxError) as err:
        append_message(account, "INBOX", b"Subject: x\r\n\r\nx\r\n")
    assert "imap[home] 127.0.0.1:9: could not append to 'INBOX'" in str(err.value)
    assert "imap-secret-456" not in str(err.value)


def test_summary_appended_to_the_users_mailbox_unread(tmp_path, model, monkeypatch):
    dovecot = pytest.importorskip("dovecot", reason="the shared Dovecot fixture (tests/dovecot.py) is not here")
    if not dovecot.available():
        pytest.skip("Dovecot is not installed")
    monkeypatch.setenv("SCREENER_TEST_IMAP_PW", "hannah-imap-pw")
    with dovecot.Dovecot.start(users={"hannah": "hannah-imap-pw"}) as server:
        extra = ('[summary]\nevery = "7d"\nmailbox = "home"\n'
                 f'[[imap]]\nname = "home"\nhost = "{server.host}"\nport = {server.port}\ntls = "none"\n'
                 'username = "hannah"\npassword_env = "SCREENER_TEST_IMAP_PW"\n')
        corpus = demo_corpus(tmp_path, model, extra=extra)
        tick(corpus.config, corpus.store, now=NOW)
        (stored,) = server.messages("hannah", "INBOX")
        assert not stored.seen
        msg = email.message_from_bytes(stored.raw, policy=email.policy.default)
        assert msg["Subject"] == "Your screener summary (Sat 14 Nov to Sat 21 Nov)"
        text = msg.get_body(("plain",)).get_content()
        assert "held back" in text
        assert_no_leak(text, corpus.held_records())
        assert_no_leak(msg.get_body(("html",)).get_content(), corpus.held_records(), "html")
        assert corpus.store.get_state("summary.mailbox.delivered_at") == "2026-11-21T12:00:00Z"
        assert own_mail.is_own(corpus.store, stored.sha256)       # the daemon will leave it unscreened
        forged = stored.raw.replace(b"Subject: Your", b"Subject: your")   # same header, other bytes
        assert not own_mail.is_own(corpus.store, hashlib.sha256(forged).hexdigest())
        tick(corpus.config, corpus.store, now=NOW + timedelta(days=1))     # not due again yet
        assert len(server.messages("hannah", "INBOX")) == 1
        corpus.close()


def test_summary_deliver_command(tmp_path):
    path = tmp_path / "config.toml"
    base = CONFIG.format(mode="co_parenting") + '[store]\npath = "s/screener.db"\n'
    path.write_text(base)
    r = run_cli("summary", "--config", path, "--deliver")
    assert r.returncode == 2 and "[summary]: no destination configured" in r.stderr
    path.write_text(base + '[summary]\nevery = "7d"\nfile = "out/summary.txt"\n')
    r = run_cli("summary", "--config", path, "--deliver", "--since", "30d")
    assert r.returncode == 0 and r.stdout == "summary to file: delivered\n", r.stderr
    first = (tmp_path / "out" / "summary.txt").read_text()
    assert first.startswith("Your screener summary\n") and "No messages came in during this period." in first
    config = load_config(path)
    with Store.for_config(config) as store:
        assert store.get_state("summary.file.delivered_at") is not None
        assert store.conn.execute("SELECT COUNT(*) FROM digests").fetchone()[0] == 1
        (tmp_path / "out" / "summary.txt").write_text("read")
        tick(config, store)                                 # delivered just now: the daemon's is not due
    assert (tmp_path / "out" / "summary.txt").read_text() == "read"
    r = run_cli("summary", "--config", path, "--deliver", "--output", tmp_path / "x.txt")
    assert r.returncode == 2 and "--output does not go with it" in r.stderr
