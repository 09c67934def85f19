"""GET /healthz for load balancers: the knowledge base is loaded and the database answers; for operators, the
live knowledge version and the last edit that was refused."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    checks = {}
    source = current_app.extensions["knowledge"]
    if source.ready:
        kb, _ = source.current()
        checks["knowledge"] = f"{len(kb.faqs)} FAQs"
    elif source.last_problems:
        checks["knowledge"] = f"not loaded: {len(source.last_problems)} problems"
    else:  # the first training is still running: not ready for traffic yet, and say so at once
        checks["knowledge"] = "not loaded yet: training the matcher"
    problem = current_app.extensions["bot"].database_problem()
    checks["database"] = f"unavailable: {problem}" if problem else "ok"
    healthy = checks["database"] == "ok" and not checks["knowledge"].startswith("not")
    status = "ok" if healthy else "unavailable"
    knowledge = {"version": current_app.extensions["knowledge_store"].live_version(), **_last_rejected_edit(source)}
    return jsonify(status=status, checks=checks, knowledge=knowledge), 200 if healthy else 503


def _last_rejected_edit(source) -> dict:
    """The live version serves on after a bad edit: say which edit was refused, so nobody thinks it is live."""
    if source.ready and source.last_problems:  # edited files this worker refused to load
        problems = source.last_problems
        return {"last_rejected_edit": {"what": "edited files", "reasons": [str(p) for p in problems[:5]]}}
    rejected = current_app.extensions["knowledge_store"].last_rejected()
    if rejected is None:
        return {"last_rejected_edit": None}
    return {
        "last_rejected_edit": {
            "what": "publish",
            "by": rejected["author"],
            "at": rejected["at"],
            "reasons": rejected.get("reasons", [])[:5],
        }
    }
