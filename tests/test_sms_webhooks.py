"""Webhook signatures and payloads as pure functions (the receiver over HTTP: test_sms_server.py)."""

import hashlib
import hmac
import json

import pytest

from conftest import CONFIG
from screener.config import load_config
from screener.errors import ConfigError
from screener import sms_webhooks as hooks

NOW = 1_750_000_000


def test_twilio_signature_matches_twilios_documented_example():
    # The example in Twilio's security documentation (auth token 12345).
    params = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
              ("From", "+12349013030"), ("To", "+18005551212")]
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert hooks.twilio_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    hooks.verify_twilio("12345", url, list(reversed(params)), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    # Twilio may sign with the default port written out
    with_port = hooks.twilio_signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", params)
    hooks.verify_twilio("12345", url, params, with_port)
    for bad_params, bad_sig in ((params[:-1], "0/KCTR6DLpKmkAf8muzZqo1nDgQ="), (params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ")):
        with pytest.raises(hooks.WebhookError) as err:
            hooks.verify_twilio("12345", url, bad_params, bad_sig)
        assert err.value.status == 403
    with pytest.raises(hooks.WebhookError) as err:
        hooks.verify_twilio("12345", url, params, None)
    assert err.value.status == 401


def test_gateway_signature_covers_body_and_timestamp():
    body = b'{"event":"sms:received"}'
    sig = hmac.new(b"k3y", body + str(NOW).encode(), hashlib.sha256).hexdigest()
    hooks.verify_timed_hmac("k3y", body, str(NOW), sig, NOW + 299, 300)
    hooks.verify_timed_hmac("k3y", body, str(NOW), sig.upper(), NOW - 299, 300)
    cases = [("k3y", body + b" ", str(NOW), sig, NOW, 403),          # body changed
             ("k3y", body, str(NOW + 1), sig, NOW, 403),             # timestamp changed
             ("other", body, str(NOW), sig, NOW, 403),               # wrong key
             ("k3y", body, str(NOW), sig, NOW + 301, 403),           # stale
             ("k3y", body, str(NOW), sig, NOW - 301, 403),           # from the future
             ("k3y", body, "soon", sig, NOW, 403),
             ("k3y", body, None, sig, NOW, 401), ("k3y", body, str(NOW), "", NOW, 401)]
    for key, raw, ts, s, now, status in cases:
        with pytest.raises(hooks.WebhookError) as err:
            hooks.verify_timed_hmac(key, raw, ts, s, now, 300)
        assert err.value.status == status
        assert "k3y" not in err.value.reason and sig not in err.value.reason


def test_bearer_token():
    hooks.verify_bearer("s3cret", "Bearer s3cret")
    for header, status in ((None, 401), ("Bearer s3cre", 403), ("Basic s3cret", 403), ("s3cret", 403)):
        with pytest.raises(hooks.WebhookError) as err:
            hooks.verify_bearer("s3cret", header)
        assert err.value.status == status


def test_gateway_envelope_new_and_old_field_names():
    env = {"id": "Ey6ECgOkVVFjz3CL48B8C", "webhookId": "w1", "event": "sms:received", "deviceId": "d1",
           "payload": {"messageId": "abc", "message": "Pick up \U0001F4F1", "sender": "+14155550142",
                       "recipient": "+14155550100", "simNumber": 1, "receivedAt": "2024-06-22T15:46:11.000+07:00"}}
    raw = json.dumps(env).encode()
    got = hooks.parse_gateway(raw)
    item = got.item
    assert item.source == "sms-gateway" and item.dedup_key == "Ey6ECgOkVVFjz3CL48B8C" and item.raw == raw
    m = item.message
    assert (m.channel, m.sender, m.body, m.date, m.to) == ("sms", "+14155550142", "Pick up \U0001F4F1",
                                                           "2024-06-22T08:46:11Z", ("+14155550100",))
    env["payload"] = {"message": "hi", "phoneNumber": "6505551212", "receivedAt": "2024-06-22T15:46:11.000+07:00"}
    assert hooks.parse_gateway(json.dumps(env).encode()).item.message.sender == "6505551212"
    for event in ("sms:sent", "system:ping", "mms:received"):
        assert hooks.parse_gateway(json.dumps({"id": "x", "event": event}).encode()) == hooks.Received(None, event)
    for bad in (b"not json", b"[1]", json.dumps({"id": "x", "event": "sms:received"}).encode(),
                json.dumps({"event": "sms:received", "payload": {"message": "m", "sender": "1"}}).encode(),
                json.dumps({"id": "x", "event": "sms:received", "payload": {"message": "m"}}).encode()):
        with pytest.raises(hooks.WebhookError) as err:
            hooks.parse_gateway(bad)
        assert err.value.status == 400


def test_twilio_form_fields():
    raw = b"ToCountry=US&Body=Answer+me+%F0%9F%98%A1&From=%2B14155550142&To=%2B14155550100&MessageSid=SM123&NumMedia=1"
    params = hooks.parse_form(raw)
    item = hooks.parse_twilio(params, raw).item
    assert item.source == "sms-twilio" and item.dedup_key == "SM123" and item.raw == raw
    assert (item.message.sender, item.message.body, item.message.to) == ("+14155550142", "Answer me \U0001F621",
                                                                          ("+14155550100",))
    with pytest.raises(hooks.WebhookError):
        hooks.parse_twilio(hooks.parse_form(b"Body=x&From=1"), b"")


def test_generic_field_map_paths_and_dates():
    fields = hooks.field_map(("id=data.uuid", "sender=data.from", "body=data.text", "date=data.ts", "to=data.to"))
    raw = json.dumps({"data": {"uuid": "u1", "from": "+14155550142", "text": "hey", "ts": 1718000000123,
                               "to": ["+14155550100"]}}).encode()
    m = hooks.parse_generic(raw, fields).item
    assert (m.dedup_key, m.message.sender, m.message.body, m.message.date, m.message.to) == (
        "u1", "+14155550142", "hey", "2024-06-10T06:13:20Z", ("+14155550100",))
    # without an id, the same content is the same message
    plain = hooks.field_map(("sender=from", "body=text", "date=sentStamp"))
    a = hooks.parse_generic(b'{"from": "1", "text": "x", "sentStamp": 1718000000}', plain).item
    b = hooks.parse_generic(b'{"text": "x", "from": "1", "sentStamp": 1718000000}', plain).item
    assert a.dedup_key == b.dedup_key and a.message.date == "2024-06-10T06:13:20Z"
    for spec in (("sender=from",), ("body=text",), ("sender=a", "body=b", "colour=c"), ("sender", "body=b"),
                 ("sender=a", "body=b", "sender=c")):
        with pytest.raises(ValueError):
            hooks.field_map(spec)


def test_bad_generic_fields_is_a_config_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(mode="no_contact") + '\n[sms]\ngeneric_fields = ["sender=from", "text=body"]\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "sms.generic_fields" in str(err.value) and "\n" not in str(err.value)
