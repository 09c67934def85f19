"""The console's side of the knowledge libraries: entries through bot.knowledge.editing, its draft and the
published versions through bot.publishing's store, lint results cached; kept in one module on purpose."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import current_app

import bot.knowledge as knowledge
from bot.knowledge import editing
from bot.knowledge_source import content_hash
from bot.publishing import Store

from .admin_labels import edit_error


class EntryError(Exception):
    """An entry that cannot be read or written as asked (unknown id, id taken, no such file)."""


@dataclass
class EntryFields:
    """An entry as the editor's form holds it."""

    id: str
    file: str  # faqs/<name>.yaml
    question: str = ""
    alternates: list[str] = field(default_factory=list)
    answer: str = ""
    related: list[str] = field(default_factory=list)
    regions: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    reviewed: str = ""


#: Lint results by the content of the files: checking the whole base takes seconds, pages show it often.
_CHECKED: dict[str, tuple] = {}
_CHECKED_LIMIT = 8


def checked(directory: Path) -> tuple[knowledge.KnowledgeBase | None, list[knowledge.Problem]]:
    """`knowledge.check(directory)`, reused while the files are unchanged."""
    key = f"{Path(directory).resolve()}:{content_hash(Path(directory))}"
    if key not in _CHECKED:
        _CHECKED[key] = knowledge.check(directory)
        while len(_CHECKED) > _CHECKED_LIMIT:
            del _CHECKED[next(iter(_CHECKED))]
    return _CHECKED[key]


def review_warnings(kb: knowledge.KnowledgeBase | None) -> list[knowledge.Problem]:
    """What `faq lint` warns about and the bot still serves: old reviews (KNOWLEDGE_REVIEW_DAYS), superseded sources."""
    if kb is None:
        return []
    return knowledge.due_for_review(kb, date.today(), int(current_app.config["KNOWLEDGE_REVIEW_DAYS"]))


def faq_file_names(directory: Path) -> list[str]:
    return [f"faqs/{p.name}" for p in knowledge.faq_files(Path(directory))]


def read_entry(directory: Path, faq_id: str) -> EntryFields:
    """The entry's fields as written in its file."""
    try:
        entry = editing.read_entry(directory, faq_id)
    except editing.EditError as exc:
        raise EntryError(edit_error(str(exc))) from None
    return EntryFields(
        id=entry.id,
        file=f"faqs/{entry.file.name}",
        question=entry.question,
        alternates=list(entry.alternates),
        answer=entry.answer.rstrip("\n"),
        related=list(entry.related),
        regions=dict(entry.regions),
        sources=list(entry.sources),
        reviewed=entry.reviewed,
    )


def write_entry(directory: Path, fields: EntryFields) -> None:
    """Write the fields back into the entry; the file's comments, order and layout stay as they were."""
    try:
        editing.update_entry(directory, fields.id, **_changes(fields))
    except editing.EditError as exc:
        raise EntryError(edit_error(str(exc))) from None


def add_entry(directory: Path, fields: EntryFields) -> None:
    """A new entry at the end of `fields.file`."""
    try:
        editing.add_entry(directory, Path(fields.file).name, {"id": fields.id, **_changes(fields)})
    except editing.EditError as exc:
        raise EntryError(edit_error(str(exc))) from None


def add_alternate(directory: Path, faq_id: str, text: str) -> bool:
    """Append `text` to the entry's alternates; False if it is there already."""
    if text in read_entry(directory, faq_id).alternates:
        return False
    editing.add_alternate(directory, faq_id, text)
    return True


def _changes(fields: EntryFields) -> dict:
    """The form's fields as update_entry() takes them; an answer of several lines is written as a `|` block."""
    answer = fields.answer.rstrip("\n") + "\n" if "\n" in fields.answer else fields.answer
    return {
        "question": fields.question,
        "alternates": fields.alternates,
        "answer": answer,
        "related": fields.related,
        "regions": fields.regions,
        "sources": fields.sources,
        "reviewed": fields.reviewed,
    }


# Drafts and publishing: bot.publishing's store ---------------------------------------------------------------

#: The console's one draft, shared by its editors and publishers (`faq draft` names others).
CONSOLE_DRAFT = "console"


def store() -> Store:
    return current_app.extensions["knowledge_store"]


def live_dir() -> Path:
    """The folder being served (the store's live version, or the hand-edited KNOWLEDGE_DIR before any publish)."""
    return store().live.resolve()


def draft_dir(reset: bool = False) -> Path:
    """The console's draft, a copy of the live knowledge made on first use (or again with `reset`)."""
    return store().draft(CONSOLE_DRAFT, reset=reset)


def changed_files(live: Path, draft: Path) -> list[str]:
    """The knowledge files that differ between the two folders."""
    names = {str(p.relative_to(live)) for p in knowledge.source_files(live)}
    names |= {str(p.relative_to(draft)) for p in knowledge.source_files(draft)}

    def content(root: Path, name: str) -> bytes | None:
        path = root / name
        return path.read_bytes() if path.is_file() else None

    return sorted(n for n in names if content(live, n) != content(draft, n))
