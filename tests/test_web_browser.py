"""The friend's page in a real browser: Playwright driving Debian's Chromium
against the app served by waitress on loopback, with a store filled by
screening real records (raw .eml bytes and SMS JSON).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from screener.accounts import add_account
from screener.evidence import verify_bundle
from screener.store import Store
from screener.web import create_app
from tests import webdata
from tests.webserve import chromium, login, serving

PASSWORD = "correct horse battery staple"

PUBLIC = {"static", "auth.login", "auth.index", "auth.logout"}
USER_ONLY = {"user.home", "user.summary_doc", "user.digest_doc", "user.held", "user.ask", "user.open_held"}
FRIEND_OR_USER = {"user.trend"}
FRIEND_ONLY = {"friend.queue", "friend.bulk", "friend.message", "friend.release", "friend.confirm", "friend.note",
               "friend.attention", "friend.alias", "friend.feedback", "review.requests_page", "review.decide",
               "review.evidence_page", "review.evidence_export"}
FORBIDDEN_TEXT = ("you owe me", "I know where you live", "Miss you", "alex.morgan@gmail.com")


@dataclass
class Site:
    base: str
    app: object
    store: Store
    ids: dict
    browser: object
    config: object

    def page(self, account: str | None = None, **options):
        context = self.browser.new_context(**options)
        page = context.new_page()
        if account:
            login(page, self.base, account, PASSWORD)
        return page

    def count(self, sql: str, *args) -> int:
        return self.store.conn.execute(sql, args).fetchone()[0]


@pytest.fixture(scope="module")
def site(config, model, tmp_path_factory):
    path = tmp_path_factory.mktemp("web") / "store" / "screener.db"
    store = Store(path)
    ids = webdata.fill(config, model, store)
    add_account(store, "friend", "friend", PASSWORD)
    add_account(store, "sam", "user", PASSWORD)
    app = create_app(config, path)
    with serving(app) as base, chromium() as browser:
        yield Site(base, app, store, ids, browser, config)
    store.close()


def csrf(page) -> str:
    return page.locator("input[name=csrf_token]").first.get_attribute("value")


# -- logging in and out -------------------------------------------------------------------

def test_login_and_logout(site):
    page = site.page()
    page.goto(f"{site.base}/queue")
    assert page.url.startswith(f"{site.base}/login")
    login(page, site.base, "friend", PASSWORD)
    assert page.url == f"{site.base}/queue"
    assert page.get_by_role("heading", name=re.compile("Held messages")).is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "screener")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name=re.compile("Log out")).click()
    assert page.url == f"{site.base}/login"
    page.goto(f"{site.base}/queue")
    assert page.url.startswith(f"{site.base}/login")
    # The old cookie, replayed after logout, no longer opens anything.
    replay = site.browser.new_context()
    replay.add_cookies([cookie])
    response = replay.request.get(f"{site.base}/queue", max_redirects=0)
    assert response.status == 302 and "/login" in response.headers["location"]
    replay.close()
    assert site.count("SELECT COUNT(*) FROM audit WHERE actor = 'friend:friend' AND action = 'logout'") >= 1
    page.context.close()


def test_failed_login(site):
    page = site.page()
    page.goto(f"{site.base}/login")
    page.get_by_label("Name").fill("friend")
    page.get_by_label("Password").fill("not the password")
    with page.expect_response(f"{site.base}/login") as response:
        page.get_by_role("button", name="Log in").click()
    assert response.value.status == 401
    assert page.get_by_role("alert").inner_text() == "That name and password do not match."
    page.goto(f"{site.base}/queue")
    assert page.url.startswith(f"{site.base}/login")
    assert site.count("SELECT COUNT(*) FROM audit WHERE action = 'login_failed'") >= 1
    page.context.close()


def test_keyboard_only(site):
    page = site.page()
    page.goto(f"{site.base}/login")
    assert page.evaluate("document.activeElement.id") == "username"      # autofocus
    page.keyboard.type("friend")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.base}/queue")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    # Past the navigation: the first control in the page itself.
    assert page.evaluate("document.activeElement.closest('main') !== null")
    page.context.close()


def test_rate_limiting_per_name_and_per_address(site):
    app = create_app(site.config, site.store.path, login_limits=(3, 6, 900))
    with serving(app) as base:
        page = site.page()
        request = page.context.request

        page.goto(f"{base}/login")
        token = [csrf(page)]

        def attempt(name, password):
            response = request.post(f"{base}/login", max_redirects=0, form={
                "csrf_token": token[0], "username": name, "password": password})
            if response.status == 302:           # a login replaces the session and its token
                page.goto(f"{base}/login")
                token[0] = csrf(page)
            return response

        assert [attempt("friend", "wrong password").status for _ in range(3)] == [401] * 3
        locked = attempt("friend", PASSWORD)          # the right password, but too late
        assert locked.status == 429 and "Too many failed attempts" in locked.text()
        assert attempt("sam", PASSWORD).status == 302  # another name still gets in
        for n in range(3):
            assert attempt(f"nobody{n}", "wrong password").status == 401
        assert attempt("sam", PASSWORD).status == 429  # six failures from this address
        app.extensions["screener"]["limiter"].reset()
        assert attempt("friend", PASSWORD).status == 302
        page.context.close()


# -- who may see what ---------------------------------------------------------------------

def _url(site, rule) -> str:
    held = site.ids["us"]
    values = {"message_id": held, "request_id": 1, "decision": "approve", "filename": "screener.css"}
    args = {k: values[k] for k in rule.arguments}
    return site.base + site.app.url_map.bind("localhost").build(rule.endpoint, args)


def test_every_route_refuses_who_it_must(site):
    rules = [r for r in site.app.url_map.iter_rules()]
    endpoints = {r.endpoint for r in rules}
    assert endpoints == PUBLIC | USER_ONLY | FRIEND_OR_USER | FRIEND_ONLY, "classify every new route in this test"
    before = site.count("SELECT COUNT(*) FROM audit WHERE action NOT IN ('login', 'login_failed', 'logout')")
    anonymous, user, friend = site.page(), site.page("sam"), site.page("friend")
    anonymous.goto(f"{site.base}/login")
    checked = 0
    for rule in rules:
        if rule.endpoint in PUBLIC:
            continue
        url = _url(site, rule)
        for who, page in (("anonymous", anonymous), ("user", user), ("friend", friend)):
            allowed = (who == "user" and rule.endpoint in USER_ONLY | FRIEND_OR_USER) or \
                      (who == "friend" and rule.endpoint in FRIEND_ONLY | FRIEND_OR_USER)
            if allowed:
                continue
            request = page.context.request
            if "GET" in rule.methods:
                response = request.get(url, max_redirects=0)
                if who == "anonymous":
                    assert response.status == 302 and "/login" in response.headers["location"], url
                else:
                    assert response.status == 403, (who, url)
                assert not any(t in response.text() for t in FORBIDDEN_TEXT), (who, url)
            if "POST" in rule.methods:
                response = request.post(url, max_redirects=0, form={"csrf_token": csrf(page), "ids": "1",
                                                                    "action": "release", "note": "x"})
                assert response.status == 403, (who, url, response.status)
            checked += 1
    assert checked >= len(FRIEND_ONLY) * 2 + len(USER_ONLY) * 2
    after = site.count("SELECT COUNT(*) FROM audit WHERE action NOT IN ('login', 'login_failed', 'logout')")
    assert after == before, "a refused request changed something"
    for page in (anonymous, user, friend):
        page.context.close()


def test_posts_without_or_with_forged_csrf_token_are_refused(site):
    friend, user = site.page("friend"), site.page("sam")
    held = site.ids["Miss you"]
    friend.goto(f"{site.base}/message/{held}")
    url = f"{site.base}/message/{held}/release"
    request = friend.context.request
    assert request.post(url, max_redirects=0, form={}).status == 400
    assert request.post(url, max_redirects=0, form={"csrf_token": "forged" + csrf(friend)[6:]}).status == 400
    user.goto(f"{site.base}/me")
    assert request.post(url, max_redirects=0, form={"csrf_token": csrf(user)}).status == 400
    assert site.count("SELECT COUNT(*) FROM releases WHERE message = ?", held) == 0
    assert request.post(url, max_redirects=0, form={"csrf_token": csrf(friend)}).status == 302
    assert site.count("SELECT COUNT(*) FROM releases WHERE message = ?", held) == 1
    friend.context.close()
    user.context.close()


def test_security_headers_on_every_kind_of_response(site):
    page = site.page("friend")
    for path in ("/login", "/queue", "/static/screener.css", "/no-such-page", f"/message/{site.ids['us']}"):
        response = page.context.request.get(site.base + path, max_redirects=0)
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp, path
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-content-type-options"] == "nosniff"
    page.context.close()


# -- the friend's work --------------------------------------------------------------------

def test_delivered_mail_stays_private(site):
    page = site.page("friend")
    delivered = site.ids["lunch"]
    page.goto(f"{site.base}/queue?state=released")
    response = page.context.request.get(f"{site.base}/message/{delivered}")
    assert response.status == 404 and "Lunch on Thursday" not in response.text()
    response = page.context.request.post(f"{site.base}/message/{delivered}/note", max_redirects=0,
                                         form={"csrf_token": csrf(page), "note": "x"})
    assert response.status == 404 and site.store.annotations(delivered) == []
    page.context.close()


def test_friend_releases_and_annotates(site):
    page = site.page("friend")
    held = site.ids["us"]
    page.goto(f"{site.base}/message/{held}")
    assert page.locator("mark").count() >= 1          # tactic phrases are highlighted
    page.get_by_role("button", name="Release to the inbox").click()
    assert "Release requested" in page.get_by_role("status").inner_text()
    row = site.store.conn.execute("SELECT * FROM releases WHERE message = ?", (held,)).fetchone()
    assert row["status"] == "pending" and row["requested_by"] == "friend:friend"
    page.get_by_label("Note (goes into the evidence report)").fill("Same weekend again.")
    page.get_by_role("button", name="Save note").click()
    page.get_by_label("Something the user needs to know").fill("Pick-up moved to Saturday 3pm")
    page.get_by_role("button", name="Mark: needs the user's attention").click()
    page.get_by_label("Feedback for retraining").select_option("wrong_tactic")
    page.get_by_label("Which tactic (optional)").select_option("gaslighting")
    page.get_by_role("button", name="Save feedback").click()
    page.get_by_role("button", name="Confirm: holding it was right").click()
    kinds = {r["kind"]: r["value"] for r in site.store.annotations(held)}
    assert kinds["note"] == "Same weekend again." and kinds["needs_attention"] == "Pick-up moved to Saturday 3pm"
    assert '"label": "wrong_tactic"' in kinds["feedback"] and '"tactic": "gaslighting"' in kinds["feedback"]
    assert "confirm" in kinds
    actions = [r[0] for r in site.store.conn.execute(
        "SELECT action FROM audit WHERE message = ? AND actor = 'friend:friend' ORDER BY seq", (held,))]
    for action in ("release_requested", "note", "needs_attention", "feedback", "confirm"):
        assert action in actions
    assert "Same weekend again." in page.locator(".notes").inner_text()
    page.context.close()


def test_friend_adds_sender_to_aliases(site):
    page = site.page("friend")
    held = site.ids["new email"]
    page.goto(f"{site.base}/message/{held}")
    page.get_by_label(re.compile("Remember the sender")).select_option("blocked:Alex Morgan")
    page.get_by_role("button", name="Remember sender").click()
    row = site.store.conn.execute("SELECT * FROM aliases WHERE source = 'friend'").fetchone()
    assert row["value"] == "alexm0rgan@gmail.com" and row["role"] == "blocked" and row["person"] == "Alex Morgan"
    assert site.count("SELECT COUNT(*) FROM audit WHERE action = 'alias_blocked' AND actor = 'friend:friend'") == 1
    page.context.close()


def test_queue_filters_and_bulk_confirm(site):
    page = site.page("friend")
    page.goto(f"{site.base}/queue")
    page.get_by_text("Filter", exact=True).click()
    page.get_by_label("Channel").select_option("sms")
    page.get_by_role("button", name="Apply filter").click()
    assert page.locator(".queue .item").count() == 1
    assert not page.locator(".queue .held").first.is_visible()      # collapsed until opened
    page.goto(f"{site.base}/queue?tactic=guilt_tripping")
    items = page.locator(".queue .item")
    assert items.count() == site.count(
        "SELECT COUNT(*) FROM messages WHERE state = 'quarantined' AND tags LIKE '%guilt_tripping%'") >= 2
    for i in range(2):
        items.nth(i).locator("input[type=checkbox]").check()
    page.get_by_role("button", name=re.compile("Confirm selected")).click()
    assert "Confirmed 2 message(s)" in page.get_by_role("status").inner_text()
    assert page.url.endswith("tactic=guilt_tripping")
    page.goto(f"{site.base}/queue?review=confirmed&tactic=guilt_tripping")
    assert page.locator(".queue .item").count() >= 2
    page.context.close()


def test_curiosity_lock(site):
    held = site.ids["I know where you liv"]
    user, friend = site.page("sam"), site.page("friend")
    user.goto(f"{site.base}/me/held")
    assert not any(t in user.content() for t in FORBIDDEN_TEXT)
    user.get_by_role("button", name=re.compile(f"number {held}\\)")).click()
    assert "Asked" in user.get_by_role("status").inner_text()
    assert user.context.request.get(f"{site.base}/me/held/{held}").status == 403
    friend.goto(f"{site.base}/requests")
    friend.get_by_role("button", name=re.compile("Approve request")).first.click()
    assert "Approved" in friend.get_by_role("status").inner_text()
    user.goto(f"{site.base}/me/held")
    user.get_by_role("link", name="Open (approved)").click()
    user.get_by_text("Show the text").click()
    assert "I know where you live" in user.locator("pre.plain").inner_text()
    actions = [r[0] for r in site.store.conn.execute("SELECT action FROM audit WHERE message = ? ORDER BY seq",
                                                     (held,))]
    assert actions[-3:] == ["view_requested", "view_approved", "viewed_by_user"]
    other = site.ids["new email"]
    assert user.context.request.get(f"{site.base}/me/held/{other}").status == 403
    user.context.close()
    friend.context.close()


def test_user_pages_show_no_content(site):
    page = site.page("sam")
    page.goto(f"{site.base}/me")
    page.wait_for_load_state("networkidle")
    assert page.locator("img.chart").evaluate("img => img.naturalWidth") > 100
    for frame in page.frames:
        assert not any(t in frame.content() for t in FORBIDDEN_TEXT)
    assert len(page.frames) == 3
    page.context.close()


def test_evidence_button(site, tmp_path):
    page = site.page("friend")
    page.goto(f"{site.base}/evidence")
    page.get_by_label("Messages from").select_option("Alex Morgan")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export evidence bundle (.zip)").click()
    path = tmp_path / "bundle.zip"
    download.value.save_as(path)
    problems, counts = verify_bundle(path)
    assert problems == []
    assert counts["messages"] == site.count("SELECT COUNT(*) FROM messages WHERE blocked_person = 'Alex Morgan'")
    page.context.close()


# -- hostile HTML ---------------------------------------------------------------------------

ALLOWED_IN_MAIL = {"P", "DIV", "SPAN", "IMG", "TABLE", "TBODY", "TR", "TD", "BR", "B", "I", "EM", "STRONG"}


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "csp-off"])
def test_hostile_html_runs_nothing_and_fetches_nothing(site, bypass_csp):
    page = site.page("friend", bypass_csp=bypass_csp)
    outside, requests, dialogs = [], [], []

    def route(route):
        if route.request.url.startswith(site.base + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for name, _ in webdata.HOSTILE + [webdata.INLINE[:2]]:
        page.goto(f"{site.base}/message/{site.ids['hostile ' + name]}?view=html")
        assert page.evaluate("() => window.__pwned") is None, name
        found = page.locator(".mail-html").evaluate("""root => [...root.querySelectorAll('*')].map(e => ({
            tag: e.tagName, attrs: [...e.attributes].map(a => [a.name, a.value])}))""")
        for element in found:
            assert element["tag"] in ALLOWED_IN_MAIL, (name, element)
            for attr, value in element["attrs"]:
                assert attr in ("class", "src", "alt", "width", "height", "colspan", "rowspan"), (name, attr)
                if attr == "src":
                    assert re.match(r"data:image/(png|gif|jpeg|webp);base64,", value), (name, value)
    page.wait_for_timeout(300)
    assert outside == [] and dialogs == []
    assert all(u.startswith(site.base + "/") or u.startswith("data:") for u in requests), requests
    # Links are printed, never clickable; remote images leave a visible note; the message's own image shows.
    page.goto(f"{site.base}/message/{site.ids['hostile javascript-link']}?view=html")
    assert page.locator(".mail-html a").count() == 0
    assert "https://evil.example/phish" in page.locator(".mail-html .url").inner_text()
    page.goto(f"{site.base}/message/{site.ids['hostile remote-image']}?view=html")
    assert "remote image from tracker.example blocked" in page.locator(".mail-html").inner_text()
    page.goto(f"{site.base}/message/{site.ids['hostile inline-image']}?view=html")
    assert page.locator(".mail-html img").evaluate("img => img.naturalWidth") == 1
    page.context.close()


# -- accessibility ----------------------------------------------------------------------------

def test_labels_and_narrow_screens(site):
    friend, user = site.page("friend", viewport={"width": 360, "height": 740}), \
        site.page("sam", viewport={"width": 360, "height": 740})
    pages = [(friend, "/queue"), (friend, f"/message/{site.ids['us']}"), (friend, "/requests"),
             (friend, "/evidence"), (user, "/me"), (user, "/me/held")]
    for page, path in pages + [(site.page(viewport={"width": 360, "height": 740}), "/login")]:
        page.goto(site.base + path)
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea, button')]
            .filter(e => e.type !== 'hidden')
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
            .map(e => e.outerHTML)""")
        assert unlabelled == [], (path, unlabelled)
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (path, width)
    friend.context.close()
    user.context.close()


def test_releasing_a_revealing_message_releases_the_senders_earlier_ones(site, config, model, tmp_path):
    """An opener held afterwards goes back with the message that showed who wrote it, and the
    friend is told so."""
    import json

    from screener.ingest import screen_into_store, screener_for
    from screener.message import Message
    from screener.store import Incoming

    store = Store(tmp_path / "store" / "screener.db")

    def text(i, body):
        msg = Message(id=f"t{i}", body=body, sender="+14155550163", channel="sms", date="2026-04-19T20:10:00+00:00")
        return Incoming(message=msg, raw=json.dumps({"body": body}).encode(), source="sms-gateway", dedup_key=f"t{i}")

    opener = screen_into_store(screener_for(config, model, store), store, [text(1, (
        "Hey! It's Jamie from Hinge, glad we matched. What are you up to this weekend?"))], "webhook")[0].row
    reveal = screen_into_store(screener_for(config, model, store), store, [text(2, (
        "ok yes it's me. Alex. I just wanted to see if you'd answer a stranger and not me"))], "webhook")[0].row
    assert store.get(opener)["state"] == "quarantined"
    add_account(store, "friend", "friend", PASSWORD)
    with serving(create_app(config, store.path)) as base:     # its own store, in the module's browser
        page = site.browser.new_context().new_page()
        login(page, base, "friend", PASSWORD)
        page.goto(f"{base}/message/{opener}")
        assert "held as Alex Morgan's new account" in page.locator("body").inner_text()
        page.goto(f"{base}/message/{reveal}")
        page.get_by_role("button", name="Release to the inbox").click()
        assert "The 1 earlier message from the same sender, held because of this one, goes back with it." in \
            page.get_by_role("status").inner_text()
        page.context.close()
    assert {r["id"] for r in store.pending_releases()} == {opener, reveal}
    store.close()
