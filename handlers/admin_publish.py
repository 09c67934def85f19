"""/admin/publish: what the draft changes, the regression gate, publishing and rolling back (publishers only)."""

from __future__ import annotations

import difflib

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

import bot.knowledge as knowledge
from bot.knowledge_source import trained

from . import admin_auth
from .admin_knowledge import (
    EntryError,
    changed_files,
    checked,
    discard_draft,
    draft_dir,
    live_dir,
    publish,
    regressions,
    rollback,
    versions,
    versions_dir,
)

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
        versions=versions(versions_dir()),
        **values,
    ), status


@blueprint.get("/publish")
def publish_page():
    return _page(published=request.args.get("published"), rolled_back=request.args.get("rolled_back"))


@blueprint.post("/publish")
@admin_auth.publisher_only
def publish_draft():
    """Lint, then the labelled questions: refused (409) if any answered right now would go wrong."""
    live, draft = live_dir(), draft_dir()
    changed = changed_files(live, draft)
    if not changed:
        return _page(400, refused="The draft is the same as the live knowledge: nothing to publish.")
    source = current_app.extensions["knowledge"]
    try:
        draft_kb, draft_matcher = trained(draft, source.policy)
    except knowledge.KnowledgeError as exc:
        return _page(409, refused="The draft has problems; fix them first.", lint=[str(p) for p in exc.problems])
    live_kb, live_matcher = source.current()
    changes = regressions(live_matcher, draft_matcher, list(live_kb.labelled))
    broken = [r for r in changes if r.wrong]
    if broken:
        admin_auth.audit("publish refused", "", f"{len(broken)} labelled question(s) would go wrong")
        return _page(409, refused="Publishing would make questions answered right go wrong.", broken=broken)
    version = publish(live, draft, versions_dir(), admin_auth.current_operator()["name"])
    asked_back = f"; {len(changes)} labelled question(s) now asked back, the right entry offered" if changes else ""
    admin_auth.audit("published", f"version {version.number}", ", ".join(changed) + asked_back)
    source.reload()  # this worker at once; the others notice the files within KNOWLEDGE_RELOAD_SECONDS
    return redirect(url_for("admin_publish.publish_page", published=version.number))


@blueprint.post("/rollback")
@admin_auth.publisher_only
def rollback_version():
    number = request.form.get("version", "")
    if not (number.isascii() and number.isdigit()):
        abort(400, description="version: the number of a published version")
    try:
        version = rollback(live_dir(), draft_dir(), versions_dir(), int(number), admin_auth.current_operator()["name"])
    except EntryError as exc:
        abort(400, description=str(exc))
    admin_auth.audit("rolled back", f"version {number}", f"now version {version.number}")
    current_app.extensions["knowledge"].reload()
    return redirect(url_for("admin_publish.publish_page", rolled_back=number))


@blueprint.post("/draft/discard")
def discard():
    """Throw the draft's changes away: it starts again from the live knowledge."""
    changed = changed_files(live_dir(), draft_dir())
    discard_draft(live_dir(), draft_dir())
    admin_auth.audit("discarded draft", "", ", ".join(changed))
    return redirect(url_for("admin_publish.publish_page"))
