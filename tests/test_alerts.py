"""Safety alerts reach the trusted friend through a real local SMTP server and a real HTTP endpoint:
grouped, rate-limited, recorded, retried, and without secrets or (by default) text."""

import logging
import secrets
from datetime import timedelta

import pytest
from conftest import CONFIG, run_cli
from local_servers import SMTPSink, WebhookSink, free_port, self_signed, server_tls
from report_corpus import assert_no_leak, demo_corpus

from screener.alerts import deliver_pending, send_test
from screener.config import load_config
from screener.ingest import screen_into_store, screener_for
from screener.message import Message
from screener.schedule import tick
from screener.store import Incoming, Store
from screener.summary import render_summary
from screener.timeutil import iso, utcnow

THREATS = ["I know where you live. I am coming over tonight and you will regret ignoring me.",
           "If you do not answer me today I will hurt myself and it will be your fault.",
           "I saw your car outside the gym this morning. Nice jacket. I am always watching.",
           "You think you can hide from me? I will find you, and when I do you will be sorry."]


def alerts_toml(smtp=None, webhook="", tls="none", host="127.0.0.1", username="", pw_env="", group=600,
                include_text=False):
    lines = ["[alerts]", f'webhook_url = "{webhook}"' if webhook else "", f"group_seconds = {group}",
             f"include_text = {'true' if include_text else 'false'}", 'page_url = "http://127.0.0.1:8030/"']
    if smtp:
        lines += [f'smtp_host = "{host}"', f"smtp_port = {smtp.port}", f'smtp_tls = "{tls}"',
                  'sender = "screener@example.org"', 'friend_emails = ["dana@example.net"]']
    if username:
        lines += [f'smtp_username = "{username}"', f'smtp_password_env = "{pw_env}"']
    return "\n".join(lines) + "\n"


def small_store(tmp_path, alerts: str):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(mode="no_contact") + '\n[store]\npath = "store/screener.db"\n' + alerts)
    config = load_config(path)
    return config, Store.for_config(config)


def threaten(config, model, store, texts, start=0):
    items = [Incoming(message=Message(id=f"t{start + i}", body=t, sender="alex.morgan@gmail.com", channel="sms",
                                      date=iso(utcnow())), raw=t.encode(), source="file", dedup_key=f"t{start + i}")
             for i, t in enumerate(texts)]
    out = screen_into_store(screener_for(config, model, store), store, items, "import")
    assert all(o.verdict.alert for o in out)
    return [o.row for o in out]


def rows(store, **where):
    sql = "SELECT * FROM alerts WHERE message IS NOT NULL" + "".join(f" AND {k} = ?" for k in where)
    return store.conn.execute(sql + " ORDER BY id", tuple(where.values())).fetchall()


def test_one_grouped_alert_by_email_and_webhook(tmp_path, model):
    with SMTPSink() as smtp, WebhookSink() as hook:
        corpus = demo_corpus(tmp_path, model, extra=alerts_toml(smtp, hook.url))
        store, config = corpus.store, corpus.config
        alerted = [r["id"] for r in store.conn.execute("SELECT id FROM messages WHERE alert = 1 ORDER BY id")]
        assert len(alerted) >= 3
        assert deliver_pending(config, store) == 2
        assert len(smtp.messages) == 1 and len(hook.requests) == 1
        mail = smtp.messages[0]
        assert mail["To"] == "dana@example.net" and mail["From"] == "screener@example.org"
        assert mail["Subject"] == f"screener: safety alert for Hannah Whitfield ({len(alerted)} messages)"
        body = mail.get_content().replace("\r\n", "\n")
        for m in alerted:
            assert f"see it: http://127.0.0.1:8030/message/{m}\n" in body
        assert "from a known address or number of Daniel Hargreaves" in body and "tactics: " in body
        assert "The text is not included" in body
        records = {r["id"]: r for r in corpus.records.values()}
        held = [records[r[0]] for r in store.conn.execute("SELECT record_id FROM messages WHERE alert = 1")]
        assert_no_leak(body, held)
        req = hook.requests[0]
        assert req["headers"]["Title"] == mail["Subject"] and req["headers"]["Priority"] == "high"
        assert req["headers"]["Click"] == f"http://127.0.0.1:8030/message/{alerted[0]}"
        assert req["body"] == body
        sent = rows(store, status="sent")
        assert len(sent) == 2 * len(alerted) and {r["grouped"] for r in sent} == {len(alerted)}
        assert len({r["batch"] for r in sent}) == 2 and {r["attempts"] for r in sent} == {1}
        events = store.conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'alert_sent'").fetchone()[0]
        assert events == 2 * len(alerted) and store.verify() == []
        # nothing is sent twice
        assert deliver_pending(config, store) == 0 and len(smtp.messages) == 1 and len(hook.requests) == 1
        text = " ".join(render_summary(config, store, None).split())
        assert f"Your trusted friend was told about all {len(alerted)} at the time." in text
        corpus.close()


def test_a_burst_after_an_alert_waits_and_goes_as_one(tmp_path, model):
    with WebhookSink() as hook:
        config, store = small_store(tmp_path, alerts_toml(webhook=hook.url, group=600))
        t0 = utcnow()
        first = threaten(config, model, store, THREATS[:1])
        assert deliver_pending(config, store, now=t0) == 1
        burst = threaten(config, model, store, THREATS[1:3], start=1)
        assert deliver_pending(config, store, now=t0 + timedelta(seconds=30)) == 0
        burst += threaten(config, model, store, THREATS[3:], start=3)
        assert deliver_pending(config, store, now=t0 + timedelta(seconds=300)) == 0
        assert len(hook.requests) == 1                       # rate limit: one alert per 10 minutes
        assert {r["next_at"] for r in rows(store, status="pending")} == {iso(t0 + timedelta(seconds=600))}
        assert deliver_pending(config, store, now=t0 + timedelta(seconds=601)) == 1
        assert len(hook.requests) == 2
        second = hook.requests[1]["body"]
        assert all(f"/message/{m}\n" in second for m in burst) and f"/message/{first[0]}\n" not in second
        assert "(3 messages)" in hook.requests[1]["headers"]["Title"]
        assert [r["grouped"] for r in rows(store)] == [1, 3, 3, 3]
        store.close()


def test_failing_endpoint_is_recorded_and_retried_with_backoff(tmp_path, model, caplog):
    caplog.set_level(logging.WARNING)
    with WebhookSink(status=500) as hook:
        config, store = small_store(tmp_path, alerts_toml(webhook=hook.url))
        (message,) = threaten(config, model, store, THREATS[:1])
        t0 = utcnow()
        assert deliver_pending(config, store, now=t0) == 0
        (row,) = rows(store)
        assert (row["status"], row["attempts"]) == ("failed", 1)
        assert "answered 500" in row["last_error"] and row["next_at"] == iso(t0 + timedelta(seconds=60))
        assert "alert by webhook failed (attempt 1" in caplog.text
        failed = store.conn.execute("SELECT message, detail FROM audit WHERE action = 'alert_failed'").fetchall()
        assert [f[0] for f in failed] == [message] and "answered 500" in failed[0][1]
        assert deliver_pending(config, store, now=t0 + timedelta(seconds=30)) == 0
        assert len(hook.requests) == 1                       # waits for its retry time
        hook.status = 200
        tick(config, store, now=t0 + timedelta(seconds=61))  # the daemon's periodic tick retries
        assert len(hook.ok) == 1
        (row,) = rows(store)
        assert (row["status"], row["attempts"], row["next_at"]) == ("sent", 2, None)
        store.close()


def test_refused_connection_backs_off_and_never_raises(tmp_path, model):
    config, store = small_store(tmp_path, alerts_toml(webhook=f"http://127.0.0.1:{free_port()}/x"))
    threaten(config, model, store, THREATS[:1])
    t0 = utcnow()
    waits = []
    for step in range(3):
        now = t0 + timedelta(hours=step)
        assert deliver_pending(config, store, now=now) == 0
        (row,) = rows(store)
        waits.append((row["attempts"], row["next_at"]))
        assert "refused" in row["last_error"].lower()
    assert waits == [(1, iso(t0 + timedelta(seconds=60))), (2, iso(t0 + timedelta(hours=1, seconds=120))),
                     (3, iso(t0 + timedelta(hours=2, seconds=300)))]
    store.close()
    readonly = Store(store.path, readonly=True)
    assert deliver_pending(config, readonly) == 0            # a store it cannot write to: logged, not raised
    readonly.close()


def test_text_only_when_the_friend_asked_for_it(tmp_path, model):
    with WebhookSink() as hook:
        config, store = small_store(tmp_path, alerts_toml(webhook=hook.url, include_text=True))
        threaten(config, model, store, THREATS[2:3])
        assert deliver_pending(config, store) == 1
        assert "text:\n    I saw your car outside the gym this morning." in hook.requests[0]["body"]
        store.close()


def test_smtp_password_never_in_logs_or_store(tmp_path, model, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG, logger="screener")
    password = "pw-" + secrets.token_hex(12)
    monkeypatch.setenv("SCREENER_TEST_SMTP_PW", password)
    with SMTPSink(login="alerts@example.org", password=password) as smtp:
        config, store = small_store(tmp_path, alerts_toml(smtp, username="alerts@example.org",
                                                          pw_env="SCREENER_TEST_SMTP_PW"))
        threaten(config, model, store, THREATS[:1])
        assert deliver_pending(config, store) == 1
        assert smtp.logins == [True] and len(smtp.messages) == 1
        wrong = "pw-" + secrets.token_hex(12)
        monkeypatch.setenv("SCREENER_TEST_SMTP_PW", wrong)
        ((route, ok, detail),) = send_test(config, store)
        assert (route, ok) == ("email", False) and "535" in detail
        threaten(config, model, store, THREATS[1:2], start=1)
        assert deliver_pending(config, store, now=utcnow() + timedelta(hours=1)) == 0
        assert smtp.logins[0] and len(smtp.logins) >= 3 and not any(smtp.logins[1:])   # tried, refused
        store.close()
    stored = b"".join(p.read_bytes() for p in store.path.parent.iterdir())
    for secret in (password, wrong):
        assert secret not in caplog.text
        assert secret.encode() not in stored
    assert "alert by email failed" in caplog.text


@pytest.fixture
def cert(tmp_path_factory):
    made = self_signed(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    return made


def test_starttls_used_and_certificate_checked(tmp_path, model, monkeypatch, cert):
    monkeypatch.setenv("SCREENER_TEST_SMTP_PW", "s3cret-for-tls")
    with SMTPSink(login="alerts", password="s3cret-for-tls", tls_context=server_tls(*cert),
                  require_starttls=True) as smtp:
        config, store = small_store(tmp_path, alerts_toml(smtp, tls="starttls", host="localhost",
                                                          username="alerts", pw_env="SCREENER_TEST_SMTP_PW"))
        monkeypatch.setenv("SSL_CERT_FILE", cert[0])          # trust the test certificate
        assert send_test(config, store) == [("email", True, "sent")]
        assert smtp.logins == [True] and len(smtp.messages) == 1
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-file.pem"))   # trust nothing
        ((_, ok, detail),) = send_test(config, store)
        assert not ok and "CERTIFICATE_VERIFY_FAILED" in detail and len(smtp.messages) == 1
        store.close()
    with SMTPSink() as plain:                                  # a server that offers no STARTTLS
        config = load_config(_rewrite(tmp_path, alerts_toml(plain, tls="starttls")))
        with Store.for_config(config) as store:
            ((_, ok, detail),) = send_test(config, store)
        assert not ok and "STARTTLS" in detail and plain.messages == []


def _rewrite(tmp_path, alerts):
    path = tmp_path / "config2.toml"
    path.write_text(CONFIG.format(mode="no_contact") + '\n[store]\npath = "store/screener.db"\n' + alerts)
    return path


def test_cli_alert_test(tmp_path):
    with SMTPSink() as smtp, WebhookSink() as hook:
        path = _rewrite(tmp_path, alerts_toml(smtp, hook.url))
        proc = run_cli("alert", "test", "--config", path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == ["email: ok", "webhook: ok"]
        assert smtp.messages[0]["Subject"] == "screener: test alert" and len(hook.requests) == 1
        hook.status = 500
        proc = run_cli("alert", "test", "--config", path)
        assert proc.returncode == 1
        assert proc.stdout.splitlines() == ["email: ok", "webhook: FAILED (webhook: the server answered 500)"]
    store = Store(tmp_path / "store" / "screener.db", readonly=True)
    tests = store.conn.execute("SELECT via, status FROM alerts WHERE message IS NULL ORDER BY id").fetchall()
    assert [tuple(t) for t in tests] == [("email", "sent"), ("webhook", "sent"), ("email", "sent"),
                                         ("webhook", "failed")]
    assert store.conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'alert_test'").fetchone()[0] == 4
    store.close()
    proc = run_cli("alert", "test", "--config", _rewrite(tmp_path, ""))
    assert proc.returncode == 2 and "no route configured" in proc.stderr


def test_two_processes_never_send_the_same_alert(tmp_path, model):
    import threading
    import time

    with WebhookSink() as hook:
        config, store = small_store(tmp_path, alerts_toml(webhook=hook.url))
        threaten(config, model, store, THREATS[:2])
        slow = hook.server.RequestHandlerClass.do_POST
        hook.server.RequestHandlerClass.do_POST = lambda self: (time.sleep(0.5), slow(self))
        others = [Store(store.path) for _ in range(3)]
        results = []
        threads = [threading.Thread(target=lambda s=s: results.append(deliver_pending(config, s))) for s in others]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [0, 0, 1] and len(hook.requests) == 1
        assert {r["status"] for r in rows(store)} == {"sent"}
        for s in others + [store]:
            s.close()


def test_a_long_burst_is_counted_not_listed(tmp_path, model):
    from screener.alert_routes import MAX_LISTED

    with WebhookSink() as hook:
        config, store = small_store(tmp_path, alerts_toml(webhook=hook.url))
        threaten(config, model, store, THREATS * 6)
        assert deliver_pending(config, store) == 1
        body = hook.requests[0]["body"]
        assert body.count("see it: ") == MAX_LISTED and f"- and {24 - MAX_LISTED} more: " in body
        assert "(24 messages)" in hook.requests[0]["headers"]["Title"]
        store.close()
