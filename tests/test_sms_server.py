"""The SMS webhook receiver over real HTTP: waitress on a free loopback port, requests with urllib."""

import base64
import hashlib
import hmac
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import CONFIG, ROOT
from smsfiles import Sms, render
from screener.config import load_config
from screener.sms_import import import_backups
from screener.sms_server import make_server, stop
from screener.store import Store

GATEWAY_KEY, TWILIO_TOKEN, GENERIC_SECRET = "gw-Key-7d1f", "tw-Token-55aa", "gen-Secret-19"
ENV = {"T_SMS_GATEWAY": GATEWAY_KEY, "T_SMS_TWILIO": TWILIO_TOKEN, "T_SMS_GENERIC": GENERIC_SECRET}
SMS = """
[sms]
gateway_secret_env = "T_SMS_GATEWAY"
twilio_token_env = "T_SMS_TWILIO"
generic_secret_env = "T_SMS_GENERIC"
generic_fields = ["id=msg.uuid", "sender=msg.from", "body=msg.text", "date=msg.ts"]
max_body_bytes = 4096
port = {port}
"""


@dataclass
class Receiver:
    url: str
    db: Path
    config: object

    def rows(self, source=None):
        with Store(self.db, readonly=True) as s:
            rows = s.messages()
        return [r for r in rows if source is None or r["source"] == source]


@pytest.fixture(scope="module")
def receiver(tmp_path_factory, model):
    d = tmp_path_factory.mktemp("receiver")
    (d / "config.toml").write_text(CONFIG.format(mode="no_contact") + SMS.format(port=8025))
    old = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)
    try:
        config = load_config(d / "config.toml")
        server = make_server(config, config.store.path, model, host="127.0.0.1", port=0)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        yield Receiver(f"http://127.0.0.1:{server.effective_port}", config.store.path, config)
        stop(server)
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def post(url, body: bytes, headers: dict):
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def gateway_body(event_id, sender="+14155550142", text="Answer me. I know you're home.", event="sms:received",
                 received_at="2025-02-03T21:04:11.000+01:00"):
    env = {"deviceId": "ffffffffceb0b1db0000018e937c815b", "event": event, "id": event_id, "webhookId": "wh-1",
           "payload": {"messageId": "m" + event_id, "message": text, "sender": sender,
                       "recipient": "+14155550100", "simNumber": 1, "receivedAt": received_at}}
    return json.dumps(env).encode()


def signed(body: bytes, key=GATEWAY_KEY, ts=None):
    ts = str(int(time.time()) if ts is None else ts)
    sig = hmac.new(key.encode(), body + ts.encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Timestamp": ts, "X-Signature": sig}


def test_gateway_signed_stored_once_and_quarantined(receiver):
    body = gateway_body("evt-alex-1")
    status, ctype, answer = post(receiver.url + "/sms/gateway", body, signed(body))
    assert status == 200 and json.loads(answer) == {"ok": True, "stored": True}
    (row,) = receiver.rows("sms-gateway")
    assert row["raw"] == body and row["dedup_key"] == "evt-alex-1"          # the request body, byte for byte
    assert row["state"] == "quarantined" and row["blocked_person"] == "Alex Morgan" and row["channel"] == "sms"
    assert row["date"] == "2025-02-03T20:04:11Z"
    # a replay within the window, and a retry re-signed later: acknowledged, not stored again
    headers = signed(body)
    for h in (headers, headers, signed(body, ts=int(time.time()) + 5)):
        status, _, answer = post(receiver.url + "/sms/gateway", body, h)
        assert status == 200 and json.loads(answer)["stored"] is False
    assert len(receiver.rows("sms-gateway")) == 1


def test_gateway_refusals(receiver, caplog):
    caplog.set_level(logging.INFO, logger="screener.sms")
    url = receiver.url + "/sms/gateway"
    body = gateway_body("evt-bad")
    before = len(receiver.rows())
    now = int(time.time())
    cases = [
        ({**signed(body), "X-Signature": signed(body, key="guess")["X-Signature"]}, body, 403),
        ({**signed(body), "X-Timestamp": str(now + 1)}, body, 403),                    # signature covers it
        (signed(body), body.replace(b"Answer", b"answer"), 403),                       # body tampered
        (signed(body, ts=now - 400), body, 403),                                       # stale
        (signed(body, ts=now + 400), body, 403),                                       # from the future
        ({"Content-Type": "application/json"}, body, 401),                             # unsigned
        (signed(b"{not json"), b"{not json", 400),
        (signed(b'{"id": "x", "event": "sms:received"}'), b'{"id": "x", "event": "sms:received"}', 400),
    ]
    for headers, raw, status in cases:
        assert post(url, raw, headers)[0] == status, (headers, raw)
    big = gateway_body("evt-big", text="x" * 5000)
    assert post(url, big, signed(big))[0] == 413
    huge = b"{" + b" " * 3_000_000 + b"}"
    try:
        assert post(url, huge, signed(huge))[0] == 413
    except (ConnectionError, urllib.error.URLError):
        pass                                    # refused before it finished sending: also a refusal
    assert len(receiver.rows()) == before
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) >= len(cases) + 1
    assert all("\n" not in line for line in refused)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert GATEWAY_KEY not in logged and "Answer me" not in logged
    # the receiver is still up
    assert urllib.request.urlopen(receiver.url + "/healthz", timeout=5).read() == b"ok\n"


def test_gateway_other_events_acknowledged_and_ignored(receiver, caplog):
    caplog.set_level(logging.INFO, logger="screener.sms")
    before = len(receiver.rows())
    for event in ("sms:sent", "sms:delivered", "system:ping", "made:up"):
        body = gateway_body("evt-" + event, event=event)
        status, _, answer = post(receiver.url + "/sms/gateway", body, signed(body))
        assert status == 200 and json.loads(answer)["stored"] is False
    assert len(receiver.rows()) == before
    assert any("'system:ping' acknowledged and ignored" in r.getMessage() for r in caplog.records)


def twilio_request(url, params, token=TWILIO_TOKEN):
    data = url + "".join(k + v for k, v in sorted(params))
    sig = base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()
    return urllib.parse.urlencode(params).encode(), {"X-Twilio-Signature": sig,
                                                     "Content-Type": "application/x-www-form-urlencoded"}


def test_twilio(receiver):
    url = receiver.url + "/sms/twilio"
    params = [("MessageSid", "SM0a1b2c"), ("AccountSid", "AC1"), ("From", "+14155550142"), ("To", "+14155550100"),
              ("Body", "Why are you ignoring me \U0001F621"), ("NumMedia", "0"), ("FromCity", "SAN FRANCISCO")]
    body, headers = twilio_request(url, params)
    for _ in range(2):
        status, ctype, answer = post(url, body, headers)
        assert status == 200 and "xml" in ctype and answer.endswith(b"<Response/>")
    (row,) = receiver.rows("sms-twilio")
    assert row["raw"] == body and row["state"] == "quarantined" and row["blocked_person"] == "Alex Morgan"
    assert json.loads(row["record"])["body"] == "Why are you ignoring me \U0001F621"
    bad_body, bad_headers = twilio_request(url, params, token="wrong")
    assert post(url, bad_body, bad_headers)[0] == 403
    forged = body.replace(b"SM0a1b2c", b"SM0a1b2d")
    assert post(url, forged, headers)[0] == 403
    assert post(url, body, {"Content-Type": "application/x-www-form-urlencoded"})[0] == 401
    assert len(receiver.rows("sms-twilio")) == 1


def test_generic(receiver):
    url = receiver.url + "/sms/generic"
    body = json.dumps({"msg": {"uuid": "g-1", "from": "+1 415 555 0199", "text": "Home safe?",
                               "ts": 1738616651000}}).encode()
    status, _, answer = post(url, body, signed(body, key=GENERIC_SECRET))
    assert status == 200 and json.loads(answer)["stored"] is True
    (row,) = receiver.rows("sms-generic")
    assert row["sender_status"] == "trusted" and row["state"] == "delivered" and row["date"] == "2025-02-03T21:04:11Z"
    assert post(url, body, signed(body, key=GATEWAY_KEY))[0] == 403
    assert post(url, body, {"Authorization": f"Bearer {GENERIC_SECRET}"})[0] == 401     # hmac mode: no token


def test_backup_after_webhook_is_not_stored_twice(receiver, model, tmp_path):
    body = gateway_body("evt-alex-later", text="You can't hide forever", received_at="2025-02-04T09:00:00.000Z")
    assert post(receiver.url + "/sms/gateway", body, signed(body))[0] == 200
    backup = tmp_path / "sms.xml"
    date = 1738659600000          # 2025-02-04T09:00:00Z
    backup.write_bytes(render([Sms("(415) 555-0142", "You can't hide forever", date + 1400),
                               Sms("(415) 555-0142", "You can't hide forever", date + 3_600_000)]))
    with Store(receiver.db) as store:
        stats = import_backups(receiver.config, model, store, [backup])
    assert (stats.via_webhook, stats.new) == (1, 1)        # the one sent again an hour later is a new message


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_sms_command(tmp_path):
    port = free_port()
    (tmp_path / "config.toml").write_text(CONFIG.format(mode="no_contact") + SMS.format(port=port))
    proc = subprocess.Popen([sys.executable, "-m", "screener", "serve-sms", "--config", tmp_path / "config.toml"],
                            cwd=ROOT, env={**os.environ, **ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.1)
        body = gateway_body("evt-cli")
        assert post(url + "/sms/gateway", body, signed(body))[0] == 200
        assert post(url + "/sms/gateway", body, signed(body, key="nope"))[0] == 403
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert f"listening on http://127.0.0.1:{port}" in err and "refused (403)" in err
    assert GATEWAY_KEY not in err + out and "Answer me" not in err + out
    with Store(tmp_path / "screener-data" / "screener.db", readonly=True) as s:
        assert [r["dedup_key"] for r in s.messages()] == ["evt-cli"]


def test_serve_sms_without_secrets_is_a_clear_error(config_path):
    from conftest import run_cli

    r = run_cli("serve-sms", "--config", config_path)
    assert r.returncode == 1 and "no webhook secret configured" in r.stderr
