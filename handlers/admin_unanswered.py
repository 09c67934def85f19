"""/admin/unanswered: what users asked that the bot could not answer, in clusters, with one action each."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from bot.clusters import cluster
from bot.storage import operators, reports

from . import admin_auth
from .admin_knowledge import EntryError, add_alternate, draft_dir

blueprint = Blueprint("admin_unanswered", __name__, url_prefix="/admin")
admin_auth.guard(blueprint)
DEFAULT_DAYS = 7


def clusters(days: int):
    """This week's unanswered questions (but those marked out of scope) in clusters, biggest first."""
    db = admin_auth.database()
    dismissed = operators.dismissed_questions(db)
    rows = [r for r in reports.unanswered_questions(db, days) if r["question"] not in dismissed]
    _, matcher = current_app.extensions["knowledge"].current()
    return cluster(rows, matcher)


@blueprint.get("/unanswered")
def unanswered():
    value = request.args.get("days", "")
    days = int(value) if value.isascii() and value.isdigit() and 0 < int(value) <= 366 else DEFAULT_DAYS
    kb, _ = current_app.extensions["knowledge"].current()
    return render_template(
        "admin/unanswered.html",
        clusters=clusters(days),
        days=days,
        faqs=sorted(kb.faqs, key=lambda f: f.id),
        titles={f.id: f.title for f in kb.faqs},
    )


@blueprint.post("/unanswered/alternate")
def add_as_alternate():
    """Add one example of a cluster as an alternate of the FAQ the operator picked, in the draft."""
    example = request.form.get("example", "").strip()
    faq_id = request.form.get("faq_id", "").strip()
    if not example or not faq_id:
        abort(400, description="请选一个例句和应该回答它的问答条目。")
    if faq_id == "(new)":
        return redirect(url_for("admin_editor.new_entry", question=example))
    try:
        added = add_alternate(draft_dir(), faq_id, example)
    except EntryError as exc:
        abort(400, description=str(exc))
    if added:
        admin_auth.audit("added alternate (draft)", faq_id, example)
    return redirect(url_for("admin_editor.edit", faq_id=faq_id, added=example))


@blueprint.post("/unanswered/out-of-scope")
def mark_out_of_scope():
    """Every question of the cluster leaves the list: the bot is not meant to answer them."""
    questions = [q for q in request.form.getlist("question") if q.strip()]
    if not questions:
        abort(400, description="没有提交任何问题。")
    operators.dismiss_questions(admin_auth.database(), questions, admin_auth.current_operator()["name"])
    admin_auth.audit("marked out of scope", questions[0], f"{len(questions)} question(s): " + " | ".join(questions))
    return redirect(url_for("admin_unanswered.unanswered"))
