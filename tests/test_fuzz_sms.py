"""Hostile and malformed SMS input: property-based tests and mutation fuzzing
of the SMS Backup & Restore reader (with its reference repair) and of the
webhook receiver (every route, with random bodies, headers and signatures).

Properties: only BackupError / a 4xx answer, never another exception or a
5xx; no hang; a broken backup or a refused request stores nothing; a request
that is signed but malformed is refused too; the receiver stays up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import random
import socket
import threading
import time
import urllib.parse
import urllib.request

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import CONFIG
from smsfiles import ALEX, Sms, corpus, render
from screener.config import load_config
from screener.sms_import import import_backups
from screener.sms_server import make_app, make_server, stop
from screener.sources.sms_backup import BackupError, check_backup, read_entries
from screener.store import Store

CALL_SECONDS = 3.0


def read_all(data: bytes, chunk: int) -> list:
    start = time.perf_counter()
    out = []
    for entry in read_entries(io.BytesIO(data), "fuzz.xml", chunk=chunk):
        key = entry.dedup_key("US")
        msg = entry.message(key)
        assert isinstance(msg.body, str) and isinstance(entry.raw, bytes)
        msg.body.encode("utf-8")
        out.append((entry.kind, entry.sender, entry.body, entry.date_ms, key))
    assert time.perf_counter() - start < CALL_SECONDS
    return out


def outcome(data: bytes, chunk: int):
    """The entries, or the BackupError's text: nothing else may come out."""
    try:
        return read_all(data, chunk)
    except BackupError as exc:
        text = str(exc)
        assert text.startswith("fuzz.xml: ") and "\n" not in text and len(text) < 400, text
        return text


VALID = render(corpus(n_benign=25).items[:40], surrogates=True)
TOKENS = [b"&#55357;", b"&#56832;", b"&#", b"&#x", b";", b"<", b">", b"</smses>", b"<sms ", b"<mms>", b"<parts>",
          b'<part ct="text/plain" data="', b'"', b"=", b"&", b'<!DOCTYPE x [<!ENTITY a "b">]>', b"\x00", b"\xff",
          b"\xed\xa0\x80", b"null", b"<calls>", b'date="99999999999999999999999"', b'date="-1"', b'type="1"',
          b"<?xml version='1.0' encoding='UTF-16'?>", b"<?xml version='1.0' encoding='utf-7'?>",
          b"<?xml version='1.0' encoding='UTFA8'?>", b"<![CDATA[", b"]]>", b"<!--", b"-->", b"&#0;", b"&#1114112;",
          b"&#99999999999;", b"9" * 5000]


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op, pos = rng.random(), rng.randint(0, len(out))
        if op < 0.25:
            del out[pos:pos + rng.randint(1, 50)]
        elif op < 0.55:
            out[pos:pos] = rng.choice(TOKENS)
        elif op < 0.75 and out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        elif op < 0.85:
            del out[pos:]
        else:
            a = rng.randint(0, len(out))
            out[pos:pos] = out[a:rng.randint(a, min(len(out), a + 400))]
    return bytes(out)


def test_backup_mutations_give_entries_or_one_line_error_whatever_the_chunks():
    rng = random.Random(11)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(300):
        data = mutate(rng, VALID)
        whole = outcome(data, 1 << 20)
        # where the reads fall changes nothing (only a found error's position may differ)
        small = outcome(data, rng.choice([1, 7, 64, 4096]))
        assert type(small) is type(whole) and (isinstance(whole, str) or small == whole)
        outcomes["error" if isinstance(whole, str) else "ok"] += 1
        if not isinstance(whole, str):
            assert check_backup(io.BytesIO(data), "fuzz.xml") == len(whole)
    assert outcomes["ok"] > 10 and outcomes["error"] > 100, outcomes


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(min_value=0, max_value=VALID.index(b"</smses>") + len(b"</smses>") - 1))
def test_every_truncation_is_refused_as_truncated(cut):
    problem = outcome(VALID[:cut], 4096)
    assert isinstance(problem, str) and "ends before the backup does" in problem


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000))
def test_any_bytes_give_entries_or_one_line_error(data):
    outcome(data, 64)


@settings(max_examples=100, deadline=None)
@given(body=st.text(max_size=200), name=st.text(max_size=30), address=st.text(max_size=30),
       date=st.integers(min_value=-(10 ** 30), max_value=10 ** 30))
def test_any_field_values_round_trip(body, name, address, date):
    body, name, address = xml_text(body), xml_text(name), xml_text(address)
    sms = Sms(address, body, 1, contact=name or None)
    data = render([sms]).replace(b'date="1"', b'date="%d"' % date)
    got = outcome(data, 7)
    assert not isinstance(got, str), got
    ((kind, _sender, got_body, got_date, _key),) = got
    assert kind == "sms" and got_body == ("" if body == "null" else body)
    assert got_date == date


def xml_text(text: str) -> str:
    """Only characters an XML 1.0 attribute carries as they are (tab and CR would become spaces)."""
    return "".join(c for c in text if c == "\n" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c > "\uffff")


def test_a_mutated_backup_imports_fully_or_changes_nothing(config_path, model, tmp_path):
    config = load_config(config_path)
    rng = random.Random(5)
    imported = refused = 0
    with Store.for_config(config) as store:
        for n in range(12):
            # odd runs: a valid backup with new texts (imported); even runs: a mutated one
            data = VALID.replace(b"(1", b"(run %d, 1" % n) if n % 2 else mutate(rng, VALID)
            path = tmp_path / f"sms-{n}.xml"
            path.write_bytes(data)
            before = store.conn.execute("SELECT COUNT(*), (SELECT COUNT(*) FROM audit) FROM messages").fetchone()
            try:
                import_backups(config, model, store, [path])
                imported += 1
            except BackupError:
                after = store.conn.execute("SELECT COUNT(*), (SELECT COUNT(*) FROM audit) FROM messages").fetchone()
                assert tuple(after) == tuple(before)
                refused += 1
        assert store.verify() == []
    assert imported >= 6 and refused >= 4, (imported, refused)


# -- the webhook receiver -----------------------------------------------------------------------

GATEWAY_KEY, TWILIO_TOKEN, GENERIC_SECRET = "gw-fuzz-Key-1", "tw-fuzz-Token-2", "gen-fuzz-Secret-3"
ENV = {"FUZZ_SMS_GATEWAY": GATEWAY_KEY, "FUZZ_SMS_TWILIO": TWILIO_TOKEN, "FUZZ_SMS_GENERIC": GENERIC_SECRET}
SMS = """
[sms]
gateway_secret_env = "FUZZ_SMS_GATEWAY"
twilio_token_env = "FUZZ_SMS_TWILIO"
generic_secret_env = "FUZZ_SMS_GENERIC"
generic_fields = ["id=msg.uuid", "sender=msg.from", "body=msg.text", "date=msg.ts", "to=msg.to"]
max_body_bytes = 8192
"""
TWILIO_URL = "http://localhost/sms/twilio"


@pytest.fixture(scope="module")
def hook(tmp_path_factory, model):
    d = tmp_path_factory.mktemp("fuzzhooks")
    (d / "config.toml").write_text(CONFIG.format(mode="no_contact") + SMS)
    patch = pytest.MonkeyPatch()
    for k, v in ENV.items():
        patch.setenv(k, v)
    config = load_config(d / "config.toml")
    app = make_app(config, config.store.path, model)
    yield app, config
    app.extensions["screener_sms"].close()
    patch.undo()


def count(config) -> int:
    with Store(config.store.path, readonly=True) as s:
        return s.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]


def timed_post(client, path, data, headers):
    start = time.perf_counter()
    response = client.post(path, data=data, headers=headers)
    assert time.perf_counter() - start < CALL_SECONDS
    return response


def gateway_headers(body: bytes, key=GATEWAY_KEY, ts=None) -> dict:
    ts = str(int(time.time()) if ts is None else ts)
    return {"Content-Type": "application/json", "X-Timestamp": ts,
            "X-Signature": hmac.new(key.encode(), body + ts.encode(), hashlib.sha256).hexdigest()}


def twilio_headers(body: bytes, token=TWILIO_TOKEN) -> dict:
    params = urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    data = TWILIO_URL + "".join(k + v for k, v in sorted(set(params)))
    sig = base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()
    return {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig}


HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


# Bodies over the 8 KiB limit are the point of half the examples: Hypothesis's check that inputs are
# not routinely too large failed once in a clean-clone run (20 of 29 drawn over its budget).
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(route=st.sampled_from(["/sms/gateway", "/sms/twilio", "/sms/generic", "/sms/other", "/healthz"]),
       body=st.one_of(st.binary(max_size=600), st.binary(min_size=8193, max_size=9000)),
       headers=st.dictionaries(st.sampled_from(["X-Signature", "X-Timestamp", "X-Twilio-Signature", "Authorization",
                                                "Content-Type", "Content-Encoding", "Transfer-Encoding"]),
                               HEADER_TEXT, max_size=5))
def test_unsigned_or_forged_requests_are_refused_and_store_nothing(hook, route, body, headers):
    app, config = hook
    before = count(config)
    response = timed_post(app.test_client(), route, body, headers)
    assert response.status_code in (400, 401, 403, 404, 405, 413), (response.status_code, response.data[:200])
    assert count(config) == before


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40),
              st.sampled_from(["sms:received", "+14155550142", "\ud800", "2025-02-03T21:04:11Z", "__huge_int__"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(
        st.sampled_from(["event", "id", "payload", "message", "sender", "phoneNumber", "receivedAt", "recipient",
                         "msg", "uuid", "from", "text", "ts", "to"]), inner, max_size=6)),
    max_leaves=20)


LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=60),
                st.sampled_from(["+14155550142", "(415) 555-0142", "\ud800", "1738616651000", "__huge_int__",
                                 "2025-02-03T21:04:11Z", "9999-99-99", ""]))
ENVELOPES = st.one_of(
    st.fixed_dictionaries({"event": st.just("sms:received"), "id": LEAF, "payload": st.fixed_dictionaries(
        {}, optional={"message": LEAF, "sender": LEAF, "phoneNumber": LEAF, "receivedAt": LEAF, "recipient": LEAF})}),
    st.fixed_dictionaries({"msg": st.fixed_dictionaries(
        {}, optional={"uuid": LEAF, "from": LEAF, "text": LEAF, "ts": LEAF, "to": st.one_of(LEAF, st.lists(LEAF))})}))


def dump(obj) -> bytes:
    """JSON text; "__huge_int__" becomes an integer of 5,000 digits (more than Python reads by default)."""
    return json.dumps(obj).replace('"__huge_int__"', "1" + "0" * 5000).encode()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(obj=st.one_of(JSONISH, ENVELOPES), route=st.sampled_from(["gateway", "generic"]))
def test_signed_but_malformed_json_is_refused_never_a_server_error(hook, obj, route):
    app, config = hook
    body = dump(obj)
    key = GATEWAY_KEY if route == "gateway" else GENERIC_SECRET
    before = count(config)
    response = timed_post(app.test_client(), f"/sms/{route}", body, gateway_headers(body, key))
    assert response.status_code in (200, 400, 413), (response.status_code, body[:300])
    stored = count(config) - before
    event(f"HTTP {response.status_code}, stored {stored}")
    if response.status_code == 200:
        assert stored == int(response.get_json()["stored"])
        if stored:
            with Store(config.store.path, readonly=True) as s:
                row = s.conn.execute("SELECT raw, record FROM messages ORDER BY id DESC LIMIT 1").fetchone()
            assert row["raw"] == body
            json.loads(row["record"])["body"].encode("utf-8")
    else:
        assert stored == 0


def test_signed_bodies_that_break_json_parsers_are_refused(hook):
    app, config = hook
    before = count(config)
    for body in (b'{"id": 1' + b"0" * 5000 + b"}", b"[" * 8000, b'{"a":' * 1200 + b"1" + b"}" * 1200,
                 b'"\\ud800"', b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00"):
        for route, key in (("gateway", GATEWAY_KEY), ("generic", GENERIC_SECRET)):
            response = timed_post(app.test_client(), f"/sms/{route}", body, gateway_headers(body, key))
            assert response.status_code == 400, (route, body[:40], response.status_code)
    assert count(config) == before
    # lone surrogates in an id, a date or the text: stored, with U+FFFD in their place
    surrogates = {"gateway": {"event": "sms:received", "id": "lone-\ud800", "payload": {
                      "message": "answer \udfff me", "sender": "+14155550142"}},
                  "generic": {"msg": {"from": "+14155550142", "text": "answer \ud800 me", "ts": "\udc00"}}}
    for route, obj in surrogates.items():
        body = json.dumps(obj).encode()
        key = GATEWAY_KEY if route == "gateway" else GENERIC_SECRET
        response = timed_post(app.test_client(), f"/sms/{route}", body, gateway_headers(body, key))
        assert response.status_code == 200 and response.get_json()["stored"] is True, (route, response.data)
    with Store(config.store.path, readonly=True) as s:
        texts = [json.loads(r["record"])["body"] for r in s.messages()[-2:]]
    assert texts == ["answer \ufffd me", "answer \ufffd me"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.lists(st.tuples(st.sampled_from(["MessageSid", "SmsSid", "From", "To", "Body", "NumMedia", "x"]),
                                 st.text(max_size=30)), min_size=1, max_size=8),
       sid=st.text(max_size=10), sender=st.text(max_size=20),
       raw_tail=st.one_of(st.just(b""), st.binary(max_size=40)))
def test_signed_twilio_forms_are_stored_or_refused(hook, fields, sid, sender, raw_tail):
    app, config = hook
    fields = [("MessageSid", sid), ("From", sender)] + fields
    body = urllib.parse.urlencode(fields).encode() + (b"&" + raw_tail if raw_tail else b"")
    try:
        headers = twilio_headers(body)
    except UnicodeEncodeError:
        return
    response = timed_post(app.test_client(), "/sms/twilio", body, headers)
    assert response.status_code in (200, 400, 403), (response.status_code, body)
    event(f"HTTP {response.status_code}")
    form = dict(fields)
    if not raw_tail and (form.get("MessageSid") or form.get("SmsSid")) and form.get("From"):
        assert response.status_code == 200 and response.data.endswith(b"<Response/>")


def test_refusals_log_one_line_without_secrets_or_text(hook, caplog):
    app, _ = hook
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    secret_text = "Answer me or else"
    body = json.dumps({"event": "sms:received", "id": "e1", "payload": {"message": secret_text}}).encode()
    for headers in (gateway_headers(body, key="wrong-key"), gateway_headers(body, ts=1), {},
                    {"X-Signature": GATEWAY_KEY, "X-Timestamp": "1"}, gateway_headers(body)):
        client.post("/sms/gateway", data=body, headers=headers)
    client.post("/sms/generic", data=body, headers={"Authorization": f"Bearer {GENERIC_SECRET}x"})
    client.post("/sms/twilio", data=b"Body=" + secret_text.encode(), headers={"X-Twilio-Signature": TWILIO_TOKEN})
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) >= 7 and all("\n" not in line for line in lines)
    for secret in (GATEWAY_KEY, TWILIO_TOKEN, GENERIC_SECRET, secret_text):
        assert secret not in caplog.text


def test_real_server_survives_malformed_http(tmp_path, model, monkeypatch):
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    (tmp_path / "config.toml").write_text(CONFIG.format(mode="no_contact") + SMS)
    config = load_config(tmp_path / "config.toml")
    server = make_server(config, config.store.path, model, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    port = server.effective_port
    garbage = [b"\x00\xff" * 100 + b"\r\n\r\n", b"POST /sms/gateway HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
               b"POST /sms/gateway HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n",
               b"POST /sms/gateway HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n{",
               b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", b"POST /sms/gateway HTTP/1.1\r\nX: " + b"y" * 300_000,
               b"POST /sms/gateway HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"]        # never finished
    try:
        socks = []
        for data in garbage:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            try:
                s.sendall(data)
            except OSError:
                pass
            socks.append(s)
        for s in socks[:-1]:
            try:
                s.recv(4096)
            except OSError:
                pass
            s.close()
        # the half-sent request holds one connection open; others are still served
        body = json.dumps({"event": "sms:received", "id": "real-1", "payload": {
            "message": "Answer me", "sender": ALEX[1], "receivedAt": "2025-02-03T21:04:11Z"}}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/sms/gateway", data=body, headers=gateway_headers(body))
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200 and json.loads(r.read())["stored"] is True
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read() == b"ok\n"
        socks[-1].close()
    finally:
        stop(server)
    with Store(config.store.path, readonly=True) as s:
        assert [r["dedup_key"] for r in s.messages()] == ["real-1"]
