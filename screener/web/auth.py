"""Logging in and out, and the guard every page uses.

Anonymous visitors are sent to the login page (GET) or refused (POST); an
account of the wrong role gets 403. After a login the session is replaced
(new token, new CSRF token), so a session fixed before login is useless.
"""

from __future__ import annotations

import functools
import secrets

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for

from screener.accounts import authenticate, end_session, start_session
from screener.web import settings, store

bp = Blueprint("auth", __name__)


def requires(*roles: str):
    """Only for a logged-in account with one of `roles`."""
    def wrap(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            account = g.get("account")
            if account is None:
                if request.method in ("GET", "HEAD"):
                    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
                abort(403, description="Log in first.")
            if account.role not in roles:
                abort(403, description="This page is not for your account.")
            return view(*args, **kwargs)
        return guarded
    return wrap


def home_for(account) -> str:
    return url_for("friend.queue") if account.role == "friend" else url_for("user.home")


@bp.get("/")
def index():
    if g.get("account") is None:
        return redirect(url_for("auth.login"))
    return redirect(home_for(g.account))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.get("account") is not None and request.method != "POST":
        return redirect(home_for(g.account))
    next_url = _safe_next(request.values.get("next", ""))
    if request.method != "POST":
        return render_template("login.html", next=next_url, error="", username="")
    username = request.form.get("username", "").strip()[:128]
    password = request.form.get("password", "")[:4096]
    ip = request.remote_addr or "?"
    limiter = settings()["limiter"]
    wait = limiter.retry_after(username, ip)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        return render_template("login.html", next=next_url, username=username,
                               error=f"Too many failed attempts. Try again in {minutes} minute(s)."), 429
    account = authenticate(store(), username, password) if username and password else None
    if account is None:
        limiter.failed(username, ip)
        with store().write():       # a name that is no account may be a password typed in the wrong box
            store().audit("web", "login_failed", None, username=_audited_name(username), ip=ip)
        return render_template("login.html", next=next_url, username=username,
                               error="That name and password do not match."), 401
    limiter.succeeded(username, ip)
    token = start_session(store(), account)
    session.clear()
    session["sid"] = token
    session["csrf"] = secrets.token_urlsafe(32)
    return redirect(next_url or home_for(account))


@bp.post("/logout")
def logout():
    token = session.get("sid")
    if g.get("account") is not None and token:
        end_session(store(), token, g.account)
    session.clear()
    return redirect(url_for("auth.login"))


def _audited_name(username: str) -> str:
    """The name tried, for the (permanent, exported) audit log: only when it is an account's name."""
    known = store().conn.execute("SELECT 1 FROM accounts WHERE username = ?", (username,)).fetchone()
    return username[:64] if known else "(not an account name)"


def _safe_next(value: str) -> str:
    """Only a path on this site (never //host or a scheme), so a link cannot bounce the login elsewhere."""
    value = (value or "").strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value or any(ord(c) < 32 for c in value):
        return ""
    return value[:500]
