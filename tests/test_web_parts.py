"""The friend's page without a browser: passwords, sessions, the login
limiter, the HTML sanitiser, highlighting, queue filters, cookies, the CLI."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from screener import accounts
from screener.accounts import AccountError, add_account, authenticate, hash_password, verify_password
from screener.store import Store
from screener.web.auth import _safe_next
from screener.web.limiter import LoginLimiter
from screener.web.sanitize import email_html, highlight, reason_phrases
from tests import webdata
from tests.conftest import ROOT, run_cli

PASSWORD = "correct horse battery staple"


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "store" / "screener.db")
    yield s
    s.close()


# -- passwords and accounts ------------------------------------------------------------------

def test_password_hash_is_salted_scrypt_and_verifies():
    a, b = hash_password(PASSWORD), hash_password(PASSWORD)
    assert a != b and a.startswith("scrypt$32768$8$1$")
    assert verify_password(PASSWORD, a) and verify_password(PASSWORD, b)
    assert not verify_password(PASSWORD + "x", a)
    assert not verify_password(PASSWORD, a[:-4] + "AAA=")


@pytest.mark.parametrize("stored", ["", "plain", "scrypt$1$8$1$AA==$AA==", "md5$32768$8$1$AA==$AA==",
                                    "scrypt$32768$8$1$not base64!$AA==", "scrypt$99999999$8$1$AA==$AA=="])
def test_bad_stored_hashes_never_verify(stored):
    assert verify_password(PASSWORD, stored) is False


def test_accounts_roles_and_replacement(store):
    assert add_account(store, "dana", "friend", PASSWORD)
    assert authenticate(store, "dana", PASSWORD).actor == "friend:dana"
    assert authenticate(store, "dana", "wrong password") is None
    assert authenticate(store, "nobody", PASSWORD) is None
    with pytest.raises(AccountError, match="already exists"):
        add_account(store, "dana", "friend", PASSWORD)
    with pytest.raises(AccountError, match="already a friend"):
        add_account(store, "dana", "user", PASSWORD, replace=True)
    with pytest.raises(AccountError, match="too short"):
        add_account(store, "sam", "user", "short")
    with pytest.raises(AccountError, match="not a valid account name"):
        add_account(store, "sam rivera", "user", PASSWORD)
    token = accounts.start_session(store, authenticate(store, "dana", PASSWORD))
    assert accounts.session_account(store, token).username == "dana"
    assert not add_account(store, "dana", "friend", "a brand new password", replace=True)
    assert accounts.session_account(store, token) is None          # a new password ends sessions
    assert authenticate(store, "dana", "a brand new password") is not None
    actions = [r[0] for r in store.conn.execute("SELECT action FROM audit WHERE actor = 'cli'")]
    assert actions == ["account_added", "account_password_set"]
    assert store.verify() == []
    hashes = store.conn.execute("SELECT password_hash FROM accounts").fetchall()
    assert all(PASSWORD not in h[0] for h in hashes)


def test_session_tokens_are_stored_hashed_and_end_on_logout(store):
    add_account(store, "sam", "user", PASSWORD)
    account = authenticate(store, "sam", PASSWORD)
    token = accounts.start_session(store, account)
    assert store.conn.execute("SELECT COUNT(*) FROM web_sessions WHERE token_hash = ?", (token,)).fetchone()[0] == 0
    assert accounts.session_account(store, token) == account
    assert accounts.session_account(store, token + "x") is None
    accounts.end_session(store, token, account)
    assert accounts.session_account(store, token) is None


def test_expired_session_is_refused(store):
    add_account(store, "sam", "user", PASSWORD)
    token = accounts.start_session(store, authenticate(store, "sam", PASSWORD), hours=0)
    assert accounts.session_account(store, token) is None


# -- the login limiter ----------------------------------------------------------------------

def test_limiter_per_name_per_address_and_window():
    t = [1000.0]
    limiter = LoginLimiter(per_user=3, per_ip=5, window=60, clock=lambda: t[0])
    for _ in range(3):
        assert limiter.retry_after("Dana", "10.0.0.1") == 0
        limiter.failed("Dana", "10.0.0.1")
    assert 0 < limiter.retry_after("dana", "10.0.0.9") <= 61        # names are case-folded
    assert limiter.retry_after("sam", "10.0.0.1") == 0
    limiter.failed("x", "10.0.0.1")
    limiter.failed("y", "10.0.0.1")
    assert limiter.retry_after("sam", "10.0.0.1") > 0              # five from one address
    assert limiter.retry_after("sam", "10.0.0.2") == 0
    t[0] += 61
    assert limiter.retry_after("dana", "10.0.0.1") == 0
    limiter.failed("dana", "10.0.0.3")
    limiter.succeeded("dana", "10.0.0.3")
    assert limiter._failures.get("u:dana") is None


# -- sanitising HTML ------------------------------------------------------------------------

class _Inspect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]


def _assert_safe(out: str) -> None:
    found = _Inspect()
    found.feed(out)
    for tag in found.tags:
        assert tag not in {"script", "style", "iframe", "svg", "form", "input", "button", "meta", "base", "link",
                           "object", "embed", "video", "audio", "a", "math", "noscript", "template"}, tag
    for tag, name, value in found.attrs:
        assert name in {"class", "src", "alt", "width", "height", "colspan", "rowspan", "title"}, (tag, name)
        if name == "src":
            assert re.match(r"data:image/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/=]+$", value), value


@pytest.mark.parametrize("name, markup", webdata.HOSTILE)
def test_hostile_corpus_is_made_safe(name, markup):
    _assert_safe(str(email_html(markup)))


fragments = st.sampled_from([m for _, m in webdata.HOSTILE] + [
    "<p>", "</p>", "<a href='https://x.example/'>", "</a>", "<img src='cid:logo@example'>", "<td>", "<table>",
    "<div style='x'>", "</div>", "&lt;", "<!--", "-->", "<![CDATA[", "]]>", "<b", ">", '"', "'", "text",
    "<svg><![CDATA[><img src=x onerror=alert(1)>]]>", "<scr<script>ipt>", "<<img src=https://t.example/p.gif>"])


@settings(max_examples=200, deadline=None)
@given(st.lists(fragments, max_size=12), st.text(max_size=40))
def test_any_mix_of_hostile_fragments_is_made_safe(parts, text):
    _assert_safe(str(email_html("".join(parts) + text, {"logo@example": "data:image/png;base64,AAAA"})))


def test_links_are_printed_and_images_resolved():
    out = str(email_html('<a href="https://example.org/x?a=1&amp;b=2">site</a> <img src="cid:logo@example">'
                         '<img src="https://t.example/p.gif" alt="pixel">',
                         {"logo@example": "data:image/png;base64,iVBORw0KGgo="}))
    assert '<span class="link">site</span> <span class="url">&lt;https://example.org/x?a=1&amp;b=2&gt;</span>' in out
    assert '<img src="data:image/png;base64,iVBORw0KGgo="' in out
    assert "[remote image from t.example blocked: pixel]" in out


def test_highlight_escapes_and_marks_whole_phrases():
    out = str(highlight("You <b>owe</b> me.\nAfter  everything I did, you OWE ME", ["owe me", "after everything"]))
    assert out == ("You &lt;b&gt;owe&lt;/b&gt; me.\n<mark>After  everything</mark> I did, you <mark>OWE ME</mark>")
    assert str(highlight("delivery", ["live"])) == "delivery"


def test_reason_phrases_come_from_tactic_and_safety_reasons():
    reasons = [{"signal": "blocked", "detail": "sender x (written 'x@y') is a known address"},
               {"signal": "guilt_tripping", "detail": "guilt tripping (0.91), driven by 'after everything', "
                                                      "'you', 'don't care'"},
               {"signal": "safety", "detail": "danger; says they know where: 'I know where you live'"}]
    assert reason_phrases(reasons, ["guilt_tripping"]) == ["after everything", "don't care", "I know where you live"]


@pytest.mark.parametrize("value, expected", [("/queue?x=1", "/queue?x=1"), ("//evil.example/", ""),
                                             ("https://evil.example/", ""), ("/\\evil", ""), ("", ""),
                                             ("/a\r\nSet-Cookie: x", "")])
def test_login_only_returns_to_this_site(value, expected):
    assert _safe_next(value) == expected


# -- the app without a browser ------------------------------------------------------------

def test_secure_cookies_and_secret_key_kept(config, tmp_path):
    import dataclasses

    from screener.web import SECRET_KEY_STATE, create_app

    path = tmp_path / "s" / "screener.db"
    secure = dataclasses.replace(config, web=dataclasses.replace(config.web, secure_cookies=True))
    app = create_app(secure, path)
    client = app.test_client()
    response = client.get("/login", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-screener=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    again = create_app(config, path)
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    with Store(path) as s:
        assert s.get_state(SECRET_KEY_STATE) == app.config["SECRET_KEY"]


def test_queue_filters(config, model, store):
    from screener.web.queries import QueueFilter, queue

    ids = webdata.fill(config, model, store, hostile=[])

    def found(**args):
        return {r["id"] for r in queue(store, QueueFilter.from_args(args))[0]}

    assert found(channel="sms") == {ids["I know where you liv"]}
    assert found(status="suspected_alias") == {ids["new email"]}
    assert ids["us"] in found(tactic="guilt_tripping") and ids["Miss you"] not in found(tactic="guilt_tripping")
    assert found(since="2026-03-06", until="2026-03-07") == {ids["new email"], ids["Привет — ça va?"]}
    assert found(person="Alex Morgan") == found() and ids["lunch"] not in found()
    assert found(since="not a date") == found()
    store.annotate(ids["us"], "friend:x", "confirm")
    assert found(review="confirmed") == {ids["us"]} and ids["us"] not in found(review="unreviewed")


def test_cli_account_add(tmp_path, config_path):
    store_line = f'\n[store]\npath = "{tmp_path / "data" / "screener.db"}"\n'
    config_path.write_text(config_path.read_text() + store_line)
    done = run_cli("friend", "add", "--config", config_path, "dana", "--password-stdin", input_text=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    again = run_cli("friend", "add", "--config", config_path, "dana", "--password-stdin", input_text=PASSWORD)
    assert again.returncode == 2 and "already exists" in again.stderr
    weak = run_cli("user", "add", "--config", config_path, "sam", "--password-stdin", input_text="short\n")
    assert weak.returncode == 2 and "too short" in weak.stderr
    with Store(tmp_path / "data" / "screener.db") as s:
        assert authenticate(s, "dana", PASSWORD).role == "friend"
        assert authenticate(s, "sam", "short") is None


def test_serve_command_binds_loopback(tmp_path, config_path):
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config_path.write_text(config_path.read_text() + f'\n[store]\npath = "{tmp_path / "d" / "s.db"}"\n'
                                                     f'\n[web]\nport = {port}\n')
    server = subprocess.Popen([sys.executable, "-m", "screener", "serve", "--config", str(config_path)],
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
                time.sleep(0.2)
        assert response.status == 200 and "default-src 'none'" in response.headers["Content-Security-Policy"]
        head = urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/login", method="HEAD"))
        assert head.status == 200
        with Store(tmp_path / "d" / "s.db", readonly=True) as s:
            assert s.conn.execute("SELECT COUNT(*) FROM audit WHERE action = 'login_failed'").fetchone()[0] == 0
        with socket.socket() as s:                      # not on another address of this machine
            s.settimeout(1)
            other = socket.gethostbyname(socket.gethostname())
            if not other.startswith("127."):
                assert s.connect_ex((other, port)) != 0
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert f"http://127.0.0.1:{port}/" in server.stderr.read()


def test_summary_document_is_reused_until_the_store_changes(config, tmp_path):
    from flask import g

    from screener.web import create_app, user

    path = tmp_path / "s" / "screener.db"
    app = create_app(config, path)
    made = []

    def render(config, store, since, fmt):
        made.append(since)
        return f"<p>summary {len(made)}</p>"

    with app.test_request_context("/me/summary.html?days=7"):
        app.preprocess_request()
        assert user._rendered("summary", render) == "<p>summary 1</p>"
        assert user._rendered("summary", render) == "<p>summary 1</p>"      # nothing changed: reused
        with g.store.write():
            g.store.audit("friend:test", "viewed", None)                   # reading changes nothing
        assert user._rendered("summary", render) == "<p>summary 1</p>"
        with g.store.write():
            g.store.audit("friend:test", "note", None)                     # anything the store records
        assert user._rendered("summary", render) == "<p>summary 2</p>"
    with app.test_request_context("/me/summary.html?days=30"):
        app.preprocess_request()
        assert user._rendered("summary", render) == "<p>summary 3</p>"      # another period is another document
    assert made[0] == made[1] and made[2] != made[0]


def test_requests_arriving_together_render_the_summary_document_once(config, tmp_path):
    """Five users opening the summary at once each drew the chart (0.2 s each, one after another
    under the GIL): the 95th percentile of every page under 20 clients went to 1.8 s."""
    import threading
    import time

    from screener.web import create_app, user

    app = create_app(config, tmp_path / "s" / "screener.db")
    made, start = [], threading.Barrier(5)

    def render(config, store, since, fmt):
        made.append(since)
        time.sleep(0.2)
        return "<p>summary</p>"

    def one(out):
        with app.test_request_context("/me/summary.html?days=90"):
            app.preprocess_request()
            start.wait()
            out.append(user._rendered("summary", render))
            app.do_teardown_request()

    got: list[str] = []
    threads = [threading.Thread(target=one, args=(got,)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == ["<p>summary</p>"] * 5 and len(made) == 1


def test_serve_warms_up_every_template_and_the_chart_before_its_first_request(tmp_path):
    """Under 20 clients the first round stalled for 1.5 s while threads compiled the same templates
    and waited on matplotlib's import: `screener serve` does it before it listens."""
    import subprocess
    import sys
    demo_config = ROOT / "data" / "demo" / "config.toml"
    script = (
        "import sys\n"
        "from screener.config import load_config\n"
        "from screener.web import create_app, warm_up\n"
        f"app = create_app(load_config({str(demo_config)!r}), {str(tmp_path / 's.db')!r})\n"
        "assert 'matplotlib' not in sys.modules and not app.jinja_env.cache\n"
        "warm_up(app)\n"
        "names = [n for n in app.jinja_env.list_templates() if n.endswith('.html')]\n"
        "cached = {key[1] for key in app.jinja_env.cache.keys()}\n"
        "print(len(names), sorted(set(names) - cached), 'matplotlib.figure' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split(" ", 1)
    assert int(out[0]) >= 8 and out[1].strip() == "[] True"
