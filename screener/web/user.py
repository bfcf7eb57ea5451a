"""The protected person's pages: the content-free summary, the digest and the
trend chart, and the curiosity lock.

Nothing here shows held content, except one message the user asked to see
and the friend approved; every request, decision and opening is audited.

The summary and the digest are whole HTML documents made by
`screener.summary` / `screener.digest`; they are shown in a sandboxed frame
(no scripts, no forms, no navigation) with their own strict policy, so their
styling is kept without loosening this page's.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, url_for

from screener.charts import contact_chart, message_day
from screener.web import queries, settings, store
from screener.web.auth import requires

bp = Blueprint("user", __name__, url_prefix="/me")

PERIODS = {"7": ("the last 7 days", timedelta(days=7)), "30": ("the last 30 days", timedelta(days=30)),
           "90": ("the last 90 days", timedelta(days=90)), "365": ("the last year", timedelta(days=365)),
           "all": ("all time", None)}
DOC_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
           "frame-ancestors 'self'; base-uri 'none'")


def _period():
    key = request.args.get("days", "7")
    return (key, *PERIODS[key]) if key in PERIODS else ("7", *PERIODS["7"])


@bp.get("")
@requires("user")
def home():
    key, label, _ = _period()
    g.csp_extra = "frame-src 'self'"
    return render_template("me.html", period=key, period_label=label, periods=PERIODS)


def _document(html: str):
    response = make_response(html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    g.csp = DOC_CSP
    g.frame_ok = True
    return response


# Rendered summary and digest documents (the summary draws a chart: ~0.2 s), reused while
# nothing in the store has changed (the audit log's last event, reading aside) within the same minute.
_DOCUMENTS: dict[tuple, str] = {}
_RENDERING = threading.Lock()
_READ_ONLY = ("viewed", "viewed_by_user", "login", "logout", "login_failed", "evidence_exported")


def _rendered(kind: str, render) -> str:
    config, db = settings()["config"], store()
    period, _, since = _period()
    head = db.conn.execute(
        f"SELECT seq FROM audit WHERE action NOT IN ({','.join('?' * len(_READ_ONLY))}) ORDER BY seq DESC LIMIT 1",
        _READ_ONLY).fetchone()
    key = (str(config.store.path), kind, period, head, int(time.time() // 60))
    html = _DOCUMENTS.get(key)
    if html is None:
        with _RENDERING:   # requests arriving together wait for one render rather than each doing it
            html = _DOCUMENTS.get(key)
            if html is None:
                if len(_DOCUMENTS) >= 32:
                    _DOCUMENTS.clear()
                html = _DOCUMENTS[key] = render(config, db, since, "html")
    return html


@bp.get("/summary.html")
@requires("user")
def summary_doc():
    from screener.summary import render_summary

    return _document(_rendered("summary", render_summary))


@bp.get("/digest.html")
@requires("user")
def digest_doc():
    from screener.digest import render_digest

    return _document(_rendered("digest", render_digest))


@bp.get("/trend.png")
@requires("user", "friend")
def trend():
    _, label, since = _period()
    sql = "SELECT channel, date, received_at FROM messages WHERE state IN ('quarantined','released','pending','error')"
    args = []
    if since is not None:
        from datetime import datetime, timezone

        sql += " AND received_at >= ?"
        args.append((datetime.now(timezone.utc) - since).strftime("%Y-%m-%dT%H:%M:%SZ"))
    series: dict[str, list] = {}
    for channel, date_text, received in store().conn.execute(sql, args):
        series.setdefault(channel, []).append(message_day(date_text, received))
    png = contact_chart(series, f"Messages held, {label}")
    response = make_response(png)
    response.headers["Content-Type"] = "image/png"
    return response


@bp.get("/held")
@requires("user")
def held():
    return render_template("me_held.html", rows=queries.held_for_user(store(), g.account.username))


@bp.post("/held/<int:message_id>/ask")
@requires("user")
def ask(message_id: int):
    if queries.request_view(store(), message_id, g.account.username, g.account.actor):
        flash("Asked. Your friend will decide; it stays closed until then.", "ok")
    else:
        flash("You have already asked about this one, or it is no longer held.", "error")
    return redirect(url_for("user.held"))


@bp.get("/held/<int:message_id>")
@requires("user")
def open_held(message_id: int):
    if not queries.may_view(store(), message_id, g.account.username):
        abort(403, description="This message opens only after your friend approves your request.")
    item = queries.message(store(), message_id)
    if item is None:
        abort(404)
    with store().write():
        store().audit(g.account.actor, "viewed_by_user", message_id)
    return render_template("me_message.html", m=item, record=item["record"])
