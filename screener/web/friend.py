"""The friend's pages: the queue of held messages, one message, and the
actions on it. Every action is an audit event (the store writes it in the
same transaction as the change).
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from screener import mailparts
from screener.normalize import normalize_sender
from screener.web import queries, settings, store
from screener.web.auth import requires
from screener.web.sanitize import email_html, highlight, reason_phrases

bp = Blueprint("friend", __name__)

FEEDBACK = {
    "wrong_tactic": "Wrong tactic",
    "not_blocked_person": "Not the blocked person",
    "missed_tactic": "A tactic was missed",
    "should_not_hold": "Should not have been held",
}
MAX_NOTE = 5000
MAX_BULK = 500


def actor() -> str:
    return g.account.actor


@bp.get("/queue")
@requires("friend")
def queue():
    f = queries.QueueFilter.from_args(request.args)
    rows, total = queries.queue(store(), f)
    pages = max(1, (total + queries.PAGE_SIZE - 1) // queries.PAGE_SIZE)
    return render_template("queue.html", rows=rows, total=total, f=f, pages=pages,
                           options=queries.filter_options(store(), settings()["config"]),
                           pending_views=len(queries.view_requests(store())))


@bp.post("/bulk")
@requires("friend")
def bulk():
    action = request.form.get("action", "")
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:MAX_BULK]
    back = request.form.get("back", "")
    back = back if back.startswith("/queue") and not back.startswith("//") else url_for("friend.queue")
    if action not in ("release", "confirm"):
        abort(400, description="Choose release or confirm.")
    if not ids:
        flash("Select at least one message first.", "error")
        return redirect(back)
    done = 0
    for message_id in ids:
        row = store().get(message_id)
        if row is None or not queries.was_held(row):
            continue
        if action == "release":
            if row["state"] != "released":
                store().request_release(message_id, actor())
                done += 1
        else:
            store().annotate(message_id, actor(), "confirm", "bulk")
            done += 1
    verb = "Release requested for" if action == "release" else "Confirmed"
    flash(f"{verb} {done} message(s).", "ok")
    return redirect(back)


@bp.get("/message/<int:message_id>")
@requires("friend")
def message(message_id: int):
    item = queries.message(store(), message_id)
    if item is None:
        abort(404, description="No such held message.")
    view = "html" if request.args.get("view") == "html" else "text"
    record = item["record"]
    phrases = reason_phrases(item["reasons"], item["tactics"].keys())
    body = highlight(record.get("body", ""), phrases)
    html_body, has_html, headers, files = None, False, [], []
    if item["channel"] == "email":
        raw = bytes(item["raw"])
        markup = mailparts.html_part(raw)
        has_html = markup is not None
        if view == "html" and has_html:
            html_body = email_html(markup, mailparts.inline_images(raw))
        headers = mailparts.key_headers(raw)
        files = mailparts.attachments(raw)
    with store().write():
        store().audit(actor(), "viewed", message_id, view=view)
    config = settings()["config"]
    return render_template(
        "message.html", m=item, record=record, body=body, html_body=html_body, has_html=has_html, view=view,
        headers=headers, files=files, phrases=phrases, notes=store().annotations(message_id),
        releases=queries.releases(store(), message_id), history=queries.history(store(), message_id),
        people=[p.name for p in config.blocked], feedback=FEEDBACK, feedback_value=_feedback_text)


def _held(message_id: int):
    row = store().get(message_id)
    if row is None or not queries.was_held(row):
        abort(404, description="No such held message.")
    return row


def _back(message_id: int):
    return redirect(url_for("friend.message", message_id=message_id))


def _text(name: str, required: bool = False) -> str:
    value = request.form.get(name, "").strip()
    if len(value) > MAX_NOTE:
        abort(400, description=f"Keep it under {MAX_NOTE} characters.")
    if required and not value:
        abort(400, description="Write something first.")
    return value


@bp.post("/message/<int:message_id>/release")
@requires("friend")
def release(message_id: int):
    row = _held(message_id)
    if row["state"] not in ("quarantined", "pending", "error"):
        flash(f"This message is {row['state']}; there is nothing to release.", "error")
    else:
        with_it = len(store().held_because(message_id))
        store().request_release(message_id, actor())
        also = (f" The {with_it} earlier message{'s' if with_it > 1 else ''} from the same sender, held because "
                f"of this one, {'go' if with_it > 1 else 'goes'} back with it.") if with_it else ""
        flash("Release requested: the screener daemon will move it back to the inbox." + also, "ok")
    return _back(message_id)


@bp.post("/message/<int:message_id>/confirm")
@requires("friend")
def confirm(message_id: int):
    _held(message_id)
    store().annotate(message_id, actor(), "confirm", _text("note"))
    flash("Confirmed: holding it was right.", "ok")
    return _back(message_id)


@bp.post("/message/<int:message_id>/note")
@requires("friend")
def note(message_id: int):
    _held(message_id)
    store().annotate(message_id, actor(), "note", _text("note", required=True))
    flash("Note saved.", "ok")
    return _back(message_id)


@bp.post("/message/<int:message_id>/attention")
@requires("friend")
def attention(message_id: int):
    _held(message_id)
    store().annotate(message_id, actor(), "needs_attention", _text("note"))
    flash("Marked as needing the user's attention.", "ok")
    return _back(message_id)


@bp.post("/message/<int:message_id>/alias")
@requires("friend")
def alias(message_id: int):
    row = _held(message_id)
    config = settings()["config"]
    choice = request.form.get("role", "")
    people = [p.name for p in config.blocked]
    if choice == "trusted":
        role, person = "trusted", row["sender_name"] or None
    elif choice.startswith("blocked:") and choice[8:] in people:
        role, person = "blocked", choice[8:]
    else:
        abort(400, description="Choose a blocked person or trusted.")
    value = row["sender_key"] or normalize_sender(row["sender"] or "", config.user.region)
    if not value:
        abort(400, description="This message has no sender to remember.")
    with store().write():
        added = store().add_alias(value, role, person, "friend", actor())
    what = f"an address of {person}" if role == "blocked" else "trusted"
    flash(f"{value} is now {what}." if added else f"{value} was already {what}.", "ok")
    return _back(message_id)


@bp.post("/message/<int:message_id>/feedback")
@requires("friend")
def feedback(message_id: int):
    _held(message_id)
    label = request.form.get("label", "")
    if label not in FEEDBACK:
        abort(400, description="Choose a feedback label.")
    value = {"label": label, "tactic": request.form.get("tactic", "").strip()[:64], "note": _text("note")}
    store().annotate(message_id, actor(), "feedback", json.dumps(value, ensure_ascii=False, sort_keys=True))
    flash("Feedback saved for retraining.", "ok")
    return _back(message_id)


def _feedback_text(note) -> str:
    """How a stored annotation reads on the page."""
    if note["kind"] != "feedback":
        return note["value"]
    try:
        value = json.loads(note["value"])
    except ValueError:
        return note["value"]
    parts = [FEEDBACK.get(value.get("label"), value.get("label", ""))]
    if value.get("tactic"):
        parts.append(f"({value['tactic']})")
    if value.get("note"):
        parts.append(f"— {value['note']}")
    return " ".join(parts)
