"""/admin/publish: what the draft changes, the regression gate, publishing and rolling back (publishers only)."""

from __future__ import annotations

import difflib

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from bot.publishing import PublishError

from . import admin_auth
from .admin_knowledge import changed_files, checked, draft_dir, live_dir, store

blueprint = Blueprint("admin_publish", __name__, url_prefix="/admin")
admin_auth.guard(blueprint)


def _diff() -> list[dict]:
    """Each changed file with its unified diff, live → draft."""
    live, draft = live_dir(), draft_dir()
    shown = []
    for name in changed_files(live, draft):
        before = (live / name).read_text(encoding="utf-8").splitlines() if (live / name).is_file() else []
        after = (draft / name).read_text(encoding="utf-8").splitlines() if (draft / name).is_file() else []
        lines = difflib.unified_diff(before, after, f"live/{name}", f"draft/{name}", lineterm="", n=2)
        shown.append({"name": name, "diff": "\n".join(lines)})
    return shown


def _page(status: int = 200, **values):
    _, problems = checked(draft_dir())
    return render_template(
        "admin/publish.html",
        changes=_diff(),
        problems=[str(p) for p in problems],
        versions=list(reversed(store().versions())),
        live_version=store().live_version(),
        **values,
    ), status


@blueprint.get("/publish")
def publish_page():
    return _page(published=request.args.get("published"), rolled_back=request.args.get("rolled_back"))


@blueprint.post("/publish")
@admin_auth.publisher_only
def publish_draft():
    """Lint, then the labelled questions (bot.publishing's gate): refused (409) naming what would go wrong."""
    if not changed_files(live_dir(), draft_dir()):
        return _page(400, refused="草稿与线上知识库相同：没有可发布的内容。")
    author = admin_auth.current_operator()["name"]
    try:
        first = store().live_version() is None
        if first:
            # Keep the hand-edited files as version 1 first, so the console's first publish can be rolled back.
            store().publish(live_dir(), author, "the files as they were before the console's first publish")
        # The draft was copied from those very files: version 1 holds nothing it could undo.
        result = store().publish(draft_dir(), author, "from the console", force=first)
    except PublishError as exc:
        return _page(400, refused=str(exc))
    if not result.accepted:
        admin_auth.audit("publish refused", "", "; ".join(result.reasons[:20]))
        refused = "草稿有问题，请先改正。" if result.problems else ("发布后，一些现在回答正确的问题会答错。")
        return _page(409, refused=refused, lint=list(result.problems), broken=list(result.regressions))
    admin_auth.audit("published", f"version {result.version}", "; ".join(result.changes))
    draft_dir(reset=True)  # the next change starts from the version now live
    current_app.extensions["knowledge"].reload()  # this worker at once; the others notice the new live version
    return redirect(url_for("admin_publish.publish_page", published=result.version))


@blueprint.post("/rollback")
@admin_auth.publisher_only
def rollback_version():
    number = request.form.get("version", "")
    if not (number.isascii() and number.isdigit()):
        abort(400, description="version：请填已发布版本的编号")
    try:
        store().rollback(int(number), admin_auth.current_operator()["name"])
    except PublishError as exc:
        abort(400, description=str(exc))
    draft_dir(reset=True)  # the draft starts again from what is now live
    admin_auth.audit("rolled back", f"version {number}")
    current_app.extensions["knowledge"].reload()
    return redirect(url_for("admin_publish.publish_page", rolled_back=number))


@blueprint.post("/draft/discard")
def discard():
    """Throw the draft's changes away: it starts again from the live knowledge."""
    changed = changed_files(live_dir(), draft_dir())
    draft_dir(reset=True)
    admin_auth.audit("discarded draft", "", ", ".join(changed))
    return redirect(url_for("admin_publish.publish_page"))
