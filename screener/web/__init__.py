"""The trusted friend's audit page (and the protected person's report page).

`create_app(config, store_path)` builds the Flask app; `screener serve` runs it
with waitress on `[web].listen` (127.0.0.1 by default).

Every request opens its own connection to the store (waitress serves from
several threads; SQLite's WAL lets it read while the daemon writes). The page
holds no mail credentials: a release is a request row the daemon carries out.

Security, on every response: a strict Content-Security-Policy with no
script-src at all (nothing on these pages needs JavaScript), no referrer, no
sniffing, no framing, no caching of pages. Sessions are a signed, HttpOnly,
SameSite=Strict cookie carrying a random token whose hash the store keeps;
every POST must carry the session's CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from flask import Flask, abort, g, render_template, request, session

from screener.accounts import session_account
from screener.store import Store

CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-DNS-Prefetch-Control": "off",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
SECRET_KEY_STATE = "web_secret_key"
MAX_FORM_BYTES = 256 * 1024


def create_app(config, store_path: str | Path | None = None, *, login_limits: tuple[int, int, int] | None = None
               ) -> Flask:
    """The web app for `config`, reading and writing the store at `store_path` (default: the config's)."""
    from screener.web.limiter import LoginLimiter

    store_path = Path(store_path) if store_path is not None else Path(config.store.path)
    with Store(store_path) as store:
        key = secret_key(store)
    app = Flask(__name__)
    secure = bool(config.web.secure_cookies)
    app.config.update(
        SECRET_KEY=key,
        SESSION_COOKIE_NAME="__Host-screener" if secure else "screener",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_PATH="/",
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_FORM_BYTES,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.extensions["screener"] = {
        "config": config,
        "store_path": store_path,
        "limiter": LoginLimiter(*(login_limits or ())),
    }

    from screener.web import auth, friend, review, user

    app.register_blueprint(auth.bp)
    app.register_blueprint(friend.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(user.bp)
    app.before_request(_open_store)
    app.before_request(_load_account)
    app.before_request(_check_csrf)
    app.teardown_request(_close_store)
    app.after_request(_security_headers)
    app.jinja_env.globals.update(csrf_token=csrf_token, current_account=lambda: g.get("account"))
    app.jinja_env.filters.update(label=_label, day=_day)
    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _error_page)
    return app


def secret_key(store: Store) -> str:
    """The key that signs session cookies: made once, kept in the store's `state` table."""
    key = store.get_state(SECRET_KEY_STATE)
    if key:
        return key
    with store.write():
        store.conn.execute("INSERT OR IGNORE INTO state (key, value) VALUES (?, ?)",
                           (SECRET_KEY_STATE, secrets.token_hex(32)))
    return store.get_state(SECRET_KEY_STATE)


def warm_up(app: Flask) -> None:
    """Do before serving what the first requests would otherwise do at once: compile every page's
    template and import what the summary, digest and evidence pages load when first used
    (matplotlib for the chart takes half a second). Under 20 clients the first round stalled
    for 1.5 s while worker threads compiled the same templates and waited on the import lock."""
    from screener import chart, digest, evidence, summary  # noqa: F401

    for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html")):
        app.jinja_env.get_template(name)
    chart.prepare()


def settings() -> dict:
    from flask import current_app

    return current_app.extensions["screener"]


def store() -> Store:
    return g.store


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _open_store():
    if request.endpoint == "static":
        return
    g.store = Store(settings()["store_path"])


def _close_store(exc=None):
    st = g.pop("store", None)
    if st is not None:
        st.close()


def _load_account():
    g.account = None
    if request.endpoint == "static":
        return
    token = session.get("sid")
    if token:
        g.account = session_account(g.store, token)
        if g.account is None:
            session.clear()


def _check_csrf():
    if request.method != "POST":
        return
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not (sent and expected and hmac.compare_digest(str(sent), str(expected))):
        abort(400, description="This form has expired or did not come from this page. Go back, reload and try again.")


def _security_headers(response):
    csp = g.get("csp") or CSP
    if g.get("csp_extra"):
        csp += "; " + g.csp_extra
    response.headers["Content-Security-Policy"] = csp
    for name, value in HEADERS.items():
        response.headers[name] = value
    if g.get("frame_ok"):
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _label(value) -> str:
    """A stored name for people: `guilt_tripping` -> `guilt tripping`."""
    return str(value or "").replace("_", " ")


def _day(item) -> str:
    """The day of a message (its own Date, or when it arrived)."""
    return str(item.get("date") or item.get("received_at") or "")[:10]


def _error_page(exc):
    code = getattr(exc, "code", 500) or 500
    description = getattr(exc, "description", "") if code != 500 else "Something went wrong; nothing was changed."
    response = render_template("error.html", code=code, name=getattr(exc, "name", "Error"),
                               description=description), code
    return response
