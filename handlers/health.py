"""GET /healthz for load balancers: the knowledge base is loaded and the database answers."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from knowledge import KnowledgeError

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    checks = {}
    try:
        kb, _ = current_app.extensions["knowledge"].current()
        checks["knowledge"] = f"{len(kb.faqs)} FAQs"
    except KnowledgeError as exc:
        checks["knowledge"] = f"not loaded: {len(exc.problems)} problems"
    problem = current_app.extensions["bot"].database_problem()
    checks["database"] = f"unavailable: {problem}" if problem else "ok"
    healthy = checks["database"] == "ok" and not checks["knowledge"].startswith("not")
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), 200 if healthy else 503
