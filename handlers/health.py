"""GET /healthz for load balancers: the knowledge base is loaded and the database answers."""

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
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), 200 if healthy else 503
