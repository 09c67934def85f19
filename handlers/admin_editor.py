"""/admin/faqs: edit an entry of the draft in a form, lint on save, preview the reply; /admin/try: try a question."""

from __future__ import annotations

import re
from dataclasses import asdict

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

import bot.knowledge as knowledge
from bot.conversation import Conversation
from bot.knowledge_source import trained
from bot.messages import Incoming
from bot.session import State

from . import admin_auth, limits
from .admin_knowledge import (
    EntryError,
    EntryFields,
    add_entry,
    checked,
    draft_dir,
    faq_file_names,
    read_entry,
    review_warnings,
    write_entry,
)
from .cli import explain_match

blueprint = Blueprint("admin_editor", __name__, url_prefix="/admin")
#: An entry's form carries every alternate: 200 of them are about 20 KB of text and, URL-encoded, nearly three
#: times that, past the API's MAX_CONTENT_LENGTH (64 KB), which turned saving the busiest entries into 413s.
ENTRY_FORM_MAX_BYTES = 1024 * 1024


admin_auth.guard(blueprint)

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Longest question an operator may try, like the API's limit for users.
MAX_TRY_CHARACTERS = 500


class FormError(Exception):
    """A field the form cannot be saved with; the message names it."""


@blueprint.get("/faqs")
def entries():
    kb, problems = checked(draft_dir())
    faqs = sorted(kb.faqs, key=lambda f: (f.category, f.id)) if kb else []
    return render_template("admin/faqs.html", faqs=faqs, problems=_shown(problems))


@blueprint.get("/faqs/<faq_id>")
def edit(faq_id: str):
    try:
        fields = read_entry(draft_dir(), faq_id)
    except EntryError as exc:
        abort(404, description=str(exc))
    return _editor(fields)


@blueprint.post("/faqs/<faq_id>")
@limits.body_up_to(ENTRY_FORM_MAX_BYTES)
def save(faq_id: str):
    draft = draft_dir()
    try:
        before = read_entry(draft, faq_id)
    except EntryError as exc:
        abort(404, description=str(exc))
    try:
        fields = fields_from_form(faq_id, before.file)
    except FormError as exc:
        return _editor(_unsaved(faq_id, before.file), error=str(exc)), 400
    write_entry(draft, fields)
    changed = [name for name, value in asdict(fields).items() if asdict(before)[name] != value]
    admin_auth.audit("edited entry (draft)", faq_id, ", ".join(changed) or "nothing changed")
    return _editor(read_entry(draft, faq_id), saved=True)


@blueprint.get("/faqs/new")
def new_entry():
    question = request.args.get("question", "")
    fields = EntryFields(id="", file=request.args.get("file", ""), question=question, alternates=[question])
    return _editor(fields, new=True)


@blueprint.post("/faqs/new")
@limits.body_up_to(ENTRY_FORM_MAX_BYTES)
def create_entry():
    faq_id = request.form.get("id", "").strip()
    file_name = request.form.get("file", "")
    draft = draft_dir()
    try:
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", faq_id):
            raise FormError("id：只能用小写字母、数字和连字符，例如 gongji-open-offline")
        if file_name not in faq_file_names(draft):
            raise FormError("文件：请从问答条目文件中选一个")
        fields = fields_from_form(faq_id, file_name)
        add_entry(draft, fields)
    except (FormError, EntryError) as exc:
        return _editor(_unsaved(faq_id, file_name), error=str(exc), new=True), 400
    admin_auth.audit("added entry (draft)", faq_id, file_name)
    return redirect(url_for("admin_editor.edit", faq_id=faq_id))


def fields_from_form(faq_id: str, file_name: str) -> EntryFields:
    """The form's fields, one list item per line; FormError names a field that cannot be saved."""
    form = request.form
    regions = {}
    for number, line in enumerate(_lines(form.get("regions", "")), start=1):
        place, colon, note = line.partition(":")
        if not colon:
            place, colon, note = line.partition("：")
        if not colon or not place.strip() or not note.strip():
            raise FormError(f"地区说明第 {number} 行：请写成“地区: 说明”，例如“武汉: 武汉：……”")
        regions[place.strip()] = note.strip()
    reviewed = form.get("reviewed", "").strip()
    if not DATE.match(reviewed):
        raise FormError("复核日期：请写成 YYYY-MM-DD")
    question = form.get("question", "").strip()
    answer = form.get("answer", "").replace("\r\n", "\n").strip()
    if not question or not answer:
        raise FormError("问题和回答不能为空")
    return EntryFields(
        id=faq_id,
        file=file_name,
        question=question,
        alternates=_lines(form.get("alternates", "")),
        answer=answer,
        related=_lines(form.get("related", "").replace(",", "\n")),
        regions=regions,
        sources=_lines(form.get("sources", "")),
        reviewed=reviewed,
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _unsaved(faq_id: str, file_name: str) -> EntryFields:
    """What the operator typed, shown again with the error so nothing they wrote is lost."""
    form = request.form
    return EntryFields(
        id=faq_id,
        file=file_name,
        question=form.get("question", ""),
        alternates=_lines(form.get("alternates", "")),
        answer=form.get("answer", ""),
        related=_lines(form.get("related", "").replace(",", "\n")),
        regions={},
        sources=_lines(form.get("sources", "")),
        reviewed=form.get("reviewed", ""),
    )


def _editor(fields: EntryFields, error: str | None = None, saved: bool = False, new: bool = False):
    """The editor page; after a refused save the regional notes are shown as the operator typed them."""
    draft = draft_dir()
    kb, problems = checked(draft)
    region = request.values.get("preview_region", "")
    return render_template(
        "admin/editor.html",
        fields=fields,
        raw_regions=request.form.get("regions") if error else None,
        files=faq_file_names(draft),
        error=error,
        saved=saved,
        new=new,
        problems=_shown(problems),
        entry_problems=[p for p in _shown(problems) if f"{fields.id}" in p or (fields.file and fields.file in p)],
        warnings=[w for w in _shown(review_warnings(kb)) if fields.file and fields.file in w],
        preview=preview(kb, fields.id, region) if kb and not new and kb.faq(fields.id) else None,
        preview_region=region,
    )


def preview(kb: knowledge.KnowledgeBase, faq_id: str, region: str) -> dict:
    """The reply as WeChat shows it (its pages, as 更多 brings them) and as the chat page shows it (whole)."""
    _, live_matcher = current_app.extensions["knowledge"].current()
    conversation = Conversation(kb, live_matcher)  # answering by id needs no matching: the live matcher will do

    def reply(paged: bool, buttons: bool) -> tuple[str, list[str]]:
        turn = conversation.turn(
            Incoming("preview", "operator", text=faq_id, region=region or None, paged=paged, buttons=buttons),
            State(),
        )
        return turn.reply.text or "", list(turn.state.pages)

    first, rest = reply(paged=True, buttons=False)
    whole, _ = reply(paged=False, buttons=True)
    return {"wechat": [first, *rest], "chat": whole}


def _shown(problems) -> list[str]:
    """Problems as `file:line: message`, the file named inside the knowledge folder as in `faq lint`."""
    draft = str(draft_dir())
    return [str(p).replace(draft + "/", "").replace(draft, ".") for p in problems]


@blueprint.route("/try", methods=["GET", "POST"])
def try_it():
    question = request.values.get("question", "").strip()
    against = request.values.get("against", "live")
    if against not in ("live", "draft"):
        abort(400, description="against：只能是 live（线上）或 draft（草稿）")
    if len(question) > MAX_TRY_CHARACTERS:
        abort(400, description=f"问题：最多 {MAX_TRY_CHARACTERS} 个字")
    result = None
    if question:
        result = try_question(question, against)
    return render_template("admin/try.html", question=question, against=against, result=result)


def try_question(question: str, against: str) -> dict:
    """What `faq ask --explain` prints, against the live knowledge or the draft (trained first, cached after)."""
    source = current_app.extensions["knowledge"]
    try:
        kb, matcher = source.current() if against == "live" else trained(draft_dir(), source.policy)
    except knowledge.KnowledgeError as exc:
        return {"problems": _shown(exc.problems)}
    turn = Conversation(kb, matcher).turn(Incoming("cli", "operator", text=question, paged=False), State())
    return {
        "reply": turn.reply.text or "(no reply)",
        "action": turn.reply.action,
        "faq_id": turn.reply.faq_id,
        "explanation": explain_match(turn.match) if turn.match else "",
    }
