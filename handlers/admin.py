"""/admin for operators: log in, the dashboard, the audit log; each page of the console is its own module."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, current_app, redirect, render_template, request, session, url_for

from bot.storage import operators, reports

from . import admin_auth, admin_editor, admin_labels, admin_publish, admin_spreadsheet, admin_unanswered
from .admin_charts import bar_chart, line_chart
from .admin_knowledge import changed_files, checked, draft_dir, review_warnings

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
#: How many days of records the dashboard and the unanswered list look at unless asked otherwise.
DEFAULT_DAYS = 14
MAX_DAYS = 366


admin_auth.guard(blueprint, public=("admin.login",))


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    for module in (admin_editor, admin_unanswered, admin_publish, admin_spreadsheet):
        app.register_blueprint(module.blueprint)
    app.context_processor(admin_auth.template_values)
    app.context_processor(admin_labels.template_values)


def days_asked() -> int:
    """?days=N, within 1..MAX_DAYS; anything else means the default."""
    value = request.args.get("days", "")
    return min(int(value), MAX_DAYS) if value.isascii() and value.isdigit() and int(value) > 0 else DEFAULT_DAYS


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("admin/login.html", next=request.args.get("next", ""))
    name = request.form.get("name", "").strip()
    try:
        admin_auth.log_in(name, request.form.get("password", ""))
    except admin_auth.LoginRefused as refused:
        return render_template("admin/login.html", error=str(refused), name=name), refused.status
    target = request.form.get("next", "")
    # Only a path on this site: an address elsewhere would make the login page a redirector for phishing.
    if not target.startswith("/admin") or target.startswith("//"):
        target = url_for("admin.dashboard")
    return redirect(target)


@blueprint.post("/logout")
def logout():
    admin_auth.audit("logged out")
    session.clear()
    return redirect(url_for("admin.login"))


@blueprint.get("/")
def dashboard():
    days = days_asked()
    db = admin_auth.database()
    by_day = reports.questions_by_day(db, days)
    feedback = reports.feedback_by_day(db, days)
    day_names = [row["day"] for row in by_day]
    rates = line_chart(
        "已回答 / 反问 / 未能回答（占问题的比例）",
        day_names,
        {
            "已回答": [row["answered"] / row["questions"] for row in by_day],
            "反问": [row["clarified"] / row["questions"] for row in by_day],
            "未能回答": [row["fell_back"] / row["questions"] for row in by_day],
        },
        percent=True,
    )
    questions = line_chart("每天的问题数", day_names, {"问题数": [row["questions"] for row in by_day]})
    helpful = line_chart(
        "每天的有用 / 没用",
        [row["day"] for row in feedback],
        {"有用": [row["helpful"] for row in feedback], "没用": [row["unhelpful"] for row in feedback]},
    )
    channels = reports.questions_by_channel(db, days)
    return render_template(
        "admin/dashboard.html",
        days=days,
        charts=[questions, rates, helpful],
        channels=bar_chart("各渠道的问题数", [(r["channel"], r["questions"]) for r in channels]),
        top=reports.top_faqs(db, days),
        titles=_titles(),
        health=_health(),
        totals={
            "questions": sum(r["questions"] for r in by_day),
            "answered": sum(r["answered"] for r in by_day),
            "fell_back": sum(r["fell_back"] for r in by_day),
        },
    )


def _titles() -> dict[str, str]:
    source = current_app.extensions["knowledge"]
    if not source.ready:
        return {}
    kb, _ = source.current()
    return {faq.id: faq.title for faq in kb.faqs}


def _health() -> dict:
    """Lint on the live and draft knowledge, and the problems of the last edit the service refused to load."""
    live = Path(current_app.config["KNOWLEDGE_DIR"])
    draft = draft_dir()
    source = current_app.extensions["knowledge"]
    live_kb, live_problems = checked(live)
    return {
        "live_problems": [str(p) for p in live_problems],
        "warnings": [str(w) for w in review_warnings(live_kb)],
        "draft_problems": [str(p) for p in checked(draft)[1]],
        "draft_changes": changed_files(live, draft),
        "rejected": [str(p) for p in source.last_problems],
        "serving": source.ready,
    }


@blueprint.get("/audit")
def audit_log():
    return render_template("admin/audit.html", entries=operators.audit_entries(admin_auth.database()))
