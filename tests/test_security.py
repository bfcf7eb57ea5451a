"""Security checks: the friend's page against missing, forged and foreign
tokens and sessions (what tests/test_web_browser.py does not already cover:
it checks every route anonymous and with the wrong role, and a forged CSRF
token on one route); secrets never in logs, errors, command output or the
store, even when a server echoes them; files only their owner can read.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest
from flask import Flask

from conftest import CONFIG, ROOT
from hostile_servers import EchoingIMAP, EchoingSMTP
from smsfiles import corpus, render
from screener.accounts import add_account
from screener.config import load_config
from screener.store import Store
from screener.web import create_app
from tests import webdata

PASSWORD = "correct horse battery staple"


# -- the friend's page ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(config, model, tmp_path_factory):
    path = tmp_path_factory.mktemp("sec") / "store" / "screener.db"
    with Store(path) as store:
        ids = webdata.fill(config, model, store)
        add_account(store, "friend", "friend", PASSWORD)
        add_account(store, "sam", "user", PASSWORD)
    return types.SimpleNamespace(app=create_app(config, path), path=path, ids=ids)


def csrf_of(html: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', html).group(1).decode()


def logged_in(site, name: str):
    client = site.app.test_client()
    token = csrf_of(client.get("/login").data)
    answer = client.post("/login", data={"csrf_token": token, "username": name, "password": PASSWORD})
    assert answer.status_code == 302, answer.data[:300]
    home = client.get("/queue" if name == "friend" else "/me")
    return client, csrf_of(home.data)


def state(site) -> tuple:
    """Everything a request could change, apart from logins and logouts."""
    with Store(site.path, readonly=True) as s:
        q = lambda sql: s.conn.execute(sql).fetchone()[0]      # noqa: E731
        return (q("SELECT COUNT(*) FROM audit WHERE action NOT IN ('login', 'logout', 'login_failed')"),
                q("SELECT COUNT(*) FROM releases"), q("SELECT COUNT(*) FROM annotations"),
                q("SELECT COUNT(*) FROM aliases"), q("SELECT COUNT(*) FROM view_requests"),
                q("SELECT COUNT(*) FROM accounts"), q("SELECT group_concat(state) FROM messages"))


def url_for_rule(site, rule) -> str:
    values = {"message_id": site.ids["us"], "request_id": 1, "decision": "approve", "filename": "screener.css"}
    return site.app.url_map.bind("localhost").build(rule.endpoint, {k: values[k] for k in rule.arguments})


POST_FORM = {"ids": "1", "action": "release", "note": "x", "text": "x", "label": "wrong_tactic",
             "role": "blocked:Alex Morgan", "person": "", "since": ""}


def test_every_post_route_refuses_a_missing_forged_or_foreign_csrf_token(site):
    friend, friend_token = logged_in(site, "friend")
    user, user_token = logged_in(site, "sam")
    anonymous = site.app.test_client()
    anonymous_token = csrf_of(anonymous.get("/login").data)
    before = state(site)
    posts = [r for r in site.app.url_map.iter_rules() if "POST" in r.methods]
    assert len(posts) >= 12
    for rule in posts:
        url = url_for_rule(site, rule)
        client, own, foreign = (user, user_token, friend_token) if rule.endpoint.startswith("user.") else \
            (friend, friend_token, user_token)
        for token in (None, "", "forged" + own[6:], own + "x", foreign, anonymous_token):
            form = dict(POST_FORM) if token is None else {**POST_FORM, "csrf_token": token}
            answer = client.post(url, data=form)
            assert answer.status_code == 400, (rule.endpoint, token, answer.status_code)
            assert b"did not come from this page" in answer.data
    assert state(site) == before
    # a logout forged from another site does not end the session
    assert friend.get("/queue").status_code == 200 and user.get("/me").status_code == 200
    # and the right token still works (the checks above refused for the token, not by accident)
    assert friend.post(f"/message/{site.ids['us']}/note", data={"csrf_token": friend_token,
                                                                 "note": "checked"}).status_code == 302
    assert state(site) != before


def test_login_form_needs_its_token(site):
    client = site.app.test_client()
    client.get("/login")
    answer = client.post("/login", data={"username": "friend", "password": PASSWORD})
    assert answer.status_code == 400
    assert client.get("/queue").status_code == 302                 # not logged in


def test_token_from_before_login_is_useless_after(site):
    client = site.app.test_client()
    before = csrf_of(client.get("/login").data)
    client.post("/login", data={"csrf_token": before, "username": "friend", "password": PASSWORD})
    after = csrf_of(client.get("/queue").data)
    assert after != before
    answer = client.post(f"/message/{site.ids['us']}/note", data={"csrf_token": before, "note": "fixed"})
    assert answer.status_code == 400


def session_cookie(key: str, data: dict) -> str:
    forger = Flask("forger")
    forger.secret_key = key
    return forger.session_interface.get_signing_serializer(forger).dumps(data)


def test_forged_and_tampered_session_cookies_are_anonymous(site):
    friend, token = logged_in(site, "friend")
    real = friend.get_cookie("screener")
    with Store(site.path, readonly=True) as s:
        key = s.get_state("web_secret_key")
    sid = site.app.session_interface.get_signing_serializer(site.app).loads(real.value)["sid"]
    user_client, _ = logged_in(site, "sam")
    user_sid = site.app.session_interface.get_signing_serializer(site.app).loads(
        user_client.get_cookie("screener").value)["sid"]
    cookies = {
        "signed with another key": session_cookie("not the key", {"sid": sid, "csrf": token}),
        "made-up session token": session_cookie(key, {"sid": secrets.token_urlsafe(32), "csrf": token}),
        "tampered signature": real.value[:-2] + ("AA" if real.value[-2:] != "AA" else "BB"),
        "not a cookie at all": "x" * 4000,
    }
    before = state(site)
    for what, value in cookies.items():
        client = site.app.test_client()
        client.set_cookie("screener", value)
        answer = client.get("/queue")
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], what
        answer = client.post(f"/message/{site.ids['us']}/release", data={"csrf_token": token})
        assert answer.status_code in (400, 403), what
    # the user's real session, with the friend's role written into the cookie: still the user
    client = site.app.test_client()
    client.set_cookie("screener", session_cookie(key, {"sid": user_sid, "csrf": "t", "role": "friend"}))
    assert client.get("/queue").status_code == 403
    assert state(site) == before


def test_other_methods_are_refused_everywhere(site):
    friend, token = logged_in(site, "friend")
    before = state(site)
    for rule in site.app.url_map.iter_rules():
        url = url_for_rule(site, rule)
        for method in ("PUT", "DELETE", "PATCH"):
            answer = friend.open(url, method=method, data={"csrf_token": token, **POST_FORM})
            assert answer.status_code == 405, (rule.endpoint, method)
    assert state(site) == before


def test_a_password_typed_as_the_name_is_not_kept(site):
    client = site.app.test_client()
    token = csrf_of(client.get("/login").data)
    for name in (PASSWORD, "friend"):
        assert client.post("/login", data={"csrf_token": token, "username": name,
                                           "password": "wrong"}).status_code == 401
    with Store(site.path, readonly=True) as s:
        details = [r[0] for r in s.conn.execute("SELECT detail FROM audit WHERE action = 'login_failed'")]
    assert any('"friend"' in d for d in details)              # a real account's name is kept
    assert not any("horse" in d for d in details)
    assert b"horse battery" not in b"".join(p.read_bytes() for p in site.path.parent.iterdir())


# -- secrets ----------------------------------------------------------------------------------

# Secrets drawn from letters that never occur in hex hashes or base64-free text, so that any
# five-character piece of one found in a log, an output or the store's bytes is a leak.
LETTERS = "GHJKMNPQRSTUVWXYZghjkmnpqrstuvwxyz"


def new_secret(prefix: str = "") -> str:
    return prefix + "".join(secrets.choice(LETTERS) for _ in range(16))


def fragments(secret: str, size: int = 5) -> list[str]:
    return [secret[i:i + size] for i in range(len(secret) - size + 1)]


def assert_absent(secret: str, *texts) -> None:
    for text in texts:
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        leaked = [f for f in fragments(secret) if f in text]
        assert not leaked, (leaked, text[-500:])


def store_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


PASSWORDS = [new_secret("pw-"), new_secret('q"uo\\te-'), new_secret("sp ace{3}-")]


@pytest.mark.parametrize("password", PASSWORDS, ids=["plain", "quotes", "spaces"])
def test_imap_password_never_in_errors_or_logs(monkeypatch, caplog, password):
    from screener.imap_append import MailboxError, append_message

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SEC_IMAP_PW", password)
    errors = []
    for pad, later in [(pad, later) for pad in range(0, 420, 30) for later in (False, True)]:  # wherever a cut falls
        with EchoingIMAP(pad, later) as server:
            account = types.SimpleNamespace(name="home", host="127.0.0.1", port=server.port, tls="none",
                                            username="sam", password_env="SEC_IMAP_PW", password_command="",
                                            timeout_seconds=5)
            with pytest.raises(MailboxError) as err:
                append_message(account, "INBOX", b"Subject: x\r\n\r\nx\r\n")
            errors.append(str(err.value))
            assert any(password.encode() in line or b"LOGIN" in line for line in server.seen)   # it was sent
    assert sum("refused the login" in e for e in errors) == sum("OVERQUOTA" in e for e in errors) == len(errors) // 2
    assert_absent(password, *errors, caplog.text)


def test_summary_to_a_hostile_mailbox_logs_and_stores_no_password(tmp_path, monkeypatch, caplog):
    from screener.schedule import tick

    caplog.set_level(logging.DEBUG)
    password = PASSWORDS[1]
    monkeypatch.setenv("SEC_IMAP_PW", password)
    with EchoingIMAP(300) as server:
        (tmp_path / "config.toml").write_text(CONFIG.format(mode="no_contact") + f"""
[[imap]]
name = "home"
host = "127.0.0.1"
port = {server.port}
tls = "none"
username = "sam"
password_env = "SEC_IMAP_PW"

[summary]
every = "1d"
mailbox = "home"
""")
        config = load_config(tmp_path / "config.toml")
        with Store.for_config(config) as store:
            tick(config, store)
            assert store.get_state("summary.mailbox.retry_at") is not None
    assert "summary to mailbox failed" in caplog.text and "refused the login" in caplog.text
    assert_absent(password, caplog.text, store_bytes(config.store.path.parent))


def alerts_config(tmp_path, port: int, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(mode="no_contact") + f"""
[alerts]
smtp_host = "127.0.0.1"
smtp_port = {port}
smtp_tls = "none"
smtp_username = "alerts@example.org"
sender = "screener@example.org"
friend_emails = ["dana@example.net"]
page_url = "http://127.0.0.1:8030/"
{extra}
""")
    return path


@pytest.mark.parametrize("password", PASSWORDS, ids=["plain", "quotes", "spaces"])
def test_smtp_password_never_in_errors_logs_store_or_command_output(tmp_path, model, monkeypatch, caplog,
                                                                     password):
    from screener.alerts import deliver_pending, send_test
    from screener.ingest import screen_into_store, screener_for
    from screener.message import Message
    from screener.store import Incoming
    from screener.timeutil import iso, utcnow

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SEC_SMTP_PW", password)
    outputs = []
    for pad in [0, 380] + list(range(200, 320, 4)):      # wherever an error message might be cut
        with EchoingSMTP(pad) as server:
            config = load_config(alerts_config(tmp_path, server.port, 'smtp_password_env = "SEC_SMTP_PW"'))
            with Store.for_config(config) as store:
                ((route, ok, detail),) = send_test(config, store)
                assert (route, ok) == ("email", False) and "535" in detail
                outputs.append(detail)
                if pad in (0, 380):           # an alert's delivery failing: logged, recorded, retried
                    threat = Message(id=f"t{pad}", body="I know where you live. I am coming over tonight.",
                                     sender="alex.morgan@gmail.com", channel="sms", date=iso(utcnow()))
                    screen_into_store(screener_for(config, model, store), store,
                                      [Incoming(threat, threat.body.encode(), "file", f"t{pad}")], "import")
                    deliver_pending(config, store)
            if pad == 0:                    # the command, once: what the user sees
                proc = subprocess.run([sys.executable, "-m", "screener", "alert", "test", "--config",
                                       str(tmp_path / "config.toml")], capture_output=True, text=True, cwd=ROOT,
                                      env={**os.environ, "SEC_SMTP_PW": password}, timeout=120)
                assert proc.returncode == 1 and "FAILED" in proc.stdout
                outputs += [proc.stdout, proc.stderr]
    assert "alert by email failed" in caplog.text
    credentials = base64.b64encode(b"\0alerts@example.org\0" + password.encode()).decode()  # AUTH PLAIN
    assert_absent(password, *outputs, caplog.text, store_bytes(tmp_path / "screener-data"))
    assert_absent(credentials, *outputs, caplog.text, store_bytes(tmp_path / "screener-data"))


def test_password_command_output_never_shown(tmp_path):
    secret = new_secret("cmd-")
    command = f"sh -c 'echo {secret}; echo {secret} >&2; exit 3'"
    path = alerts_config(tmp_path, 9, f'smtp_password_command = "{command}"')
    proc = subprocess.run([sys.executable, "-m", "screener", "alert", "test", "--config", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 1 and "exited with status 3" in proc.stdout + proc.stderr
    assert_absent(secret, proc.stdout, proc.stderr, store_bytes(tmp_path / "screener-data"))


@pytest.mark.parametrize("section", [
    '[[imap]]\nname = "home"\nhost = "imap.example.org"\nusername = "sam"\npassword = "{secret}"\n',
    '[alerts]\nsmtp_host = "smtp.example.org"\nsmtp_password = "{secret}"\n',
    '[sms]\ngateway_secret = "{secret}"\n',
])
def test_a_secret_written_in_the_config_is_refused_without_repeating_it(tmp_path, section):
    secret = new_secret("inline-")
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(mode="no_contact") + section.format(secret=secret))
    proc = subprocess.run([sys.executable, "-m", "screener", "check-config", "--config", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert_absent(secret, proc.stdout, proc.stderr)


WEBHOOK_SMS = """
[sms]
gateway_secret_env = "SEC_GATEWAY"
twilio_token_env = "SEC_TWILIO"
generic_secret_env = "SEC_GENERIC"
generic_auth = "token"
generic_fields = ["id=id", "sender=from", "body=text"]
"""


def test_webhook_keys_never_in_logs_or_store(tmp_path, model, monkeypatch, caplog):
    import hashlib
    import hmac
    import time

    from screener.sms_server import make_app

    caplog.set_level(logging.DEBUG)
    keys = {"SEC_GATEWAY": new_secret("gw-"), "SEC_TWILIO": new_secret("tw-"), "SEC_GENERIC": new_secret("gen-")}
    for k, v in keys.items():
        monkeypatch.setenv(k, v)
    (tmp_path / "config.toml").write_text(CONFIG.format(mode="no_contact") + WEBHOOK_SMS)
    config = load_config(tmp_path / "config.toml")
    app = make_app(config, config.store.path, model)
    client = app.test_client()
    wrong = new_secret("guess-")
    body = json.dumps({"event": "sms:received", "id": "k1", "payload": {"message": "Answer me",
                                                                          "sender": "+14155550142"}}).encode()
    ts = str(int(time.time()))
    for key in (keys["SEC_GATEWAY"], wrong):
        sig = hmac.new(key.encode(), body + ts.encode(), hashlib.sha256).hexdigest()
        client.post("/sms/gateway", data=body, headers={"X-Timestamp": ts, "X-Signature": sig})
    client.post("/sms/gateway", data=body, headers={"X-Timestamp": ts, "X-Signature": keys["SEC_GATEWAY"]})
    generic = json.dumps({"id": "g1", "from": "+14155550199", "text": "home safe?"}).encode()
    for token in (keys["SEC_GENERIC"], wrong, keys["SEC_GATEWAY"]):
        client.post("/sms/generic", data=generic, headers={"Authorization": f"Bearer {token}"})
    client.post("/sms/twilio", data=b"MessageSid=S1&From=%2B14155550142&Body=hi",
                headers={"X-Twilio-Signature": keys["SEC_TWILIO"]})
    app.extensions["screener_sms"].close()
    with Store(config.store.path, readonly=True) as s:
        assert sorted(r["dedup_key"] for r in s.messages()) == ["g1", "k1"]        # the right ones got in
    for secret in (*keys.values(), wrong):
        assert_absent(secret, caplog.text, store_bytes(config.store.path.parent))


# -- files only their owner can read -------------------------------------------------------------

def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_store_backups_bundles_and_history_are_private_whatever_the_umask(tmp_path, config_path):
    backup = tmp_path / "sms.xml"
    backup.write_bytes(render(corpus(n_benign=20).items[:30]))
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    # leftovers another user could have put where a copy is about to be written
    for name in ("copy.db.part", "bundle.zip.part", "history.jsonl.part"):
        (shared / name).write_bytes(b"planted")
        (shared / name).chmod(0o666)
    commands = [("import-sms", "--config", config_path, backup, "--history-for", "Alex Morgan",
                 "--out", shared / "history.jsonl"),
                ("backup", "--config", config_path, shared / "copy.db"),
                ("evidence", "export", "--config", config_path, shared / "bundle.zip")]
    for args in commands:
        proc = subprocess.run([sys.executable, "-m", "screener", *map(str, args)], capture_output=True, text=True,
                              cwd=ROOT, timeout=300, preexec_fn=lambda: os.umask(0))
        assert proc.returncode == 0, proc.stderr
    data = config_path.parent / "screener-data"
    store_files = [data / "screener.db"]
    written = [shared / "copy.db", shared / "bundle.zip", shared / "history.jsonl"]
    assert all(p.exists() for p in store_files + written)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for p in store_files + written:
        assert private(p), (p, oct(p.stat().st_mode))
    assert not list(shared.glob("*.part"))
    assert (shared / "copy.db").read_bytes()[:16] == b"SQLite format 3\x00"


def test_store_and_its_journal_files_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        with Store(tmp_path / "data" / "screener.db") as store:
            with store.write():
                store.set_state("k", "v")
            files = list((tmp_path / "data").iterdir())
            assert {p.name for p in files} >= {"screener.db", "screener.db-wal", "screener.db-shm"}
            assert all(private(p) for p in files), [(p.name, oct(p.stat().st_mode)) for p in files]
            store.backup(tmp_path / "elsewhere" / "copy.db")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700 and private(tmp_path / "elsewhere" / "copy.db")


def test_a_store_copied_in_with_loose_modes_is_made_private(tmp_path):
    path = tmp_path / "data" / "screener.db"
    Store(path).close()
    for p in path.parent.iterdir():
        p.chmod(0o644)
    with Store(path):
        pass
    assert all(private(p) for p in path.parent.iterdir())


def test_summary_file_is_private_whatever_the_umask(tmp_path):
    from screener.schedule import write_file

    old = os.umask(0)
    try:
        target = tmp_path / "summary.txt"
        (tmp_path / "summary.txt.part").write_text("planted")
        write_file(target, "3 messages held")
    finally:
        os.umask(old)
    assert private(target) and target.read_text() == "3 messages held"


# -- local only -----------------------------------------------------------------------------------

GUARD = '''
import os, socket
_log = os.environ["SCREENER_NET_LOG"]
_LOCAL = (None, "127.0.0.1", "::1", "localhost")
def _refuse(what):
    with open(_log, "a") as fh:
        fh.write(repr(what) + "\\n")
    raise OSError("network access blocked by the test")
_connect = socket.socket.connect
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOCAL:
        _refuse(address)
    return _connect(self, address)
socket.socket.connect = connect
_getaddrinfo = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    if host not in _LOCAL:
        _refuse(("getaddrinfo", host))
    return _getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = getaddrinfo
'''


def test_commands_make_no_network_connections(tmp_path, config_path):
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "net.log"
    env = {**os.environ, "PYTHONPATH": f"{guard}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "SCREENER_NET_LOG": str(log)}
    control = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('192.0.2.1', 80), 1)"],
                             capture_output=True, text=True, env=env, timeout=60)
    assert control.returncode == 1 and "blocked by the test" in control.stderr and log.exists()   # the guard works
    log.unlink()
    backup = tmp_path / "sms.xml"
    backup.write_bytes(render(corpus(n_benign=20).items[:30]))
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps({"id": "1", "sender": "alex.morgan@gmail.com", "body": "Answer me."}) + "\n" +
                       json.dumps({"id": "2", "sender": "x@example.com", "subject": "photo",
                                   "body": "<img src=https://tracker.example/p.gif> see https://evil.example/"}) + "\n")
    config = ["--config", str(config_path)]
    commands = [["classify", *config, "--input", str(records)], ["import-sms", *config, str(backup)],
                ["summary", *config], ["evidence", "export", *config, str(tmp_path / "bundle.zip")],
                ["scan", *config, "--input", str(records)]]
    for args in commands:
        proc = subprocess.run([sys.executable, "-m", "screener", *args], capture_output=True, text=True, cwd=ROOT,
                              env=env, timeout=300)
        assert proc.returncode == 0, (args, proc.stderr[-2000:])
    assert not log.exists(), log.read_text()
