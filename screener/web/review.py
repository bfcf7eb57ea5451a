"""The friend's other duties: deciding the user's requests to see a held
message (the curiosity lock) and exporting the evidence bundle.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone

from flask import Blueprint, abort, after_this_request, flash, g, redirect, render_template, request, send_file, url_for

from screener.web import queries, settings, store
from screener.web.auth import requires

bp = Blueprint("review", __name__)


@bp.get("/requests")
@requires("friend")
def requests_page():
    return render_template("requests.html", pending=queries.view_requests(store(), "pending"),
                           approved=queries.view_requests(store(), "approved")[-50:])


@bp.post("/requests/<int:request_id>/<any(approve, refuse):decision>")
@requires("friend")
def decide(request_id: int, decision: str):
    approve = decision == "approve"
    if queries.decide_view(store(), request_id, approve, g.account.actor):
        flash("Approved: the user can now open it." if approve else "Refused: it stays closed.", "ok")
    else:
        flash("That request was already decided.", "error")
    return redirect(url_for("review.requests_page"))


@bp.get("/evidence")
@requires("friend")
def evidence_page():
    config = settings()["config"]
    return render_template("evidence.html", people=[p.name for p in config.blocked])


@bp.post("/evidence")
@requires("friend")
def evidence_export():
    from screener.evidence import EvidenceError, export_bundle, parse_since

    config = settings()["config"]
    person = request.form.get("person", "").strip() or None
    if person is not None and person not in [p.name for p in config.blocked]:
        abort(400, description="Choose one of the blocked people, or everyone.")
    try:
        since = parse_since(request.form.get("since", "").strip() or None)
    except EvidenceError as exc:
        abort(400, description=str(exc))
    fd, path = tempfile.mkstemp(prefix="screener-evidence-", suffix=".zip")
    os.close(fd)

    @after_this_request
    def _remove(response):
        response.call_on_close(lambda: os.path.exists(path) and os.unlink(path))
        return response

    export_bundle(config, store(), path, person=person, since=since, actor=g.account.actor)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return send_file(path, mimetype="application/zip", as_attachment=True,
                     download_name=f"screener-evidence-{stamp}.zip")
