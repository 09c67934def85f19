"""The knowledge-file operations the console needs: entries through bot.knowledge.editing, the draft, publishing.

Drafts, versions and the publish gate are kept here, thin, until the knowledge-tools branch brings them as a
library; the console's side of that seam stays in this one module.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from flask import current_app

import bot.knowledge as knowledge
from bot.knowledge import editing
from bot.knowledge_source import content_hash
from bot.matching.evaluation import evaluate


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
        raise EntryError(str(exc)) from None
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
        raise EntryError(str(exc)) from None


def add_entry(directory: Path, fields: EntryFields) -> None:
    """A new entry at the end of `fields.file`."""
    try:
        editing.add_entry(directory, Path(fields.file).name, {"id": fields.id, **_changes(fields)})
    except editing.EditError as exc:
        raise EntryError(str(exc)) from None


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


# Drafts, publishing and versions --------------------------------------------------------------------------


def replace_file(path: Path, content: bytes) -> None:
    """Write whole or not at all: a reloading worker never reads half a file."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as new_file:
        new_file.write(content)
    os.replace(temporary, path)


# Drafts, publishing and versions --------------------------------------------------------------------------


def live_dir() -> Path:
    return Path(current_app.config["KNOWLEDGE_DIR"])


def draft_dir() -> Path:
    """This app's draft folder, made on first use."""
    return ensure_draft(live_dir(), Path(current_app.config["KNOWLEDGE_DRAFT_DIR"]))


def versions_dir() -> Path:
    return Path(current_app.config["KNOWLEDGE_VERSIONS_DIR"])


def ensure_draft(live: Path, draft: Path) -> Path:
    """The draft folder editors change; a copy of the live knowledge the first time."""
    if not (draft / "faqs").is_dir():
        copy_knowledge(live, draft)
    return draft


def copy_knowledge(source: Path, target: Path) -> None:
    """Every file the loader reads, from `source` into `target` (files only in `target` are removed)."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = {p.relative_to(source) for p in knowledge.source_files(source)}
    for old in knowledge.source_files(target):
        if old.relative_to(target) not in wanted:
            old.unlink()
    for relative in sorted(wanted):
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        replace_file(target / relative, (source / relative).read_bytes())


def changed_files(live: Path, draft: Path) -> list[str]:
    """The knowledge files that differ between the two folders."""
    names = {str(p.relative_to(live)) for p in knowledge.source_files(live)}
    names |= {str(p.relative_to(draft)) for p in knowledge.source_files(draft)}

    def content(root: Path, name: str) -> bytes | None:
        path = root / name
        return path.read_bytes() if path.is_file() else None

    return sorted(n for n in names if content(live, n) != content(draft, n))


@dataclass(frozen=True)
class Version:
    number: int
    at: str
    operator: str
    path: Path


def versions(versions_dir: Path) -> list[Version]:
    """Every published version, newest first."""
    found = []
    for path in versions_dir.glob("*") if versions_dir.is_dir() else []:
        meta = path / "VERSION"
        if meta.is_file():
            number, at, operator = meta.read_text(encoding="utf-8").split("\t")
            found.append(Version(int(number), at, operator.strip(), path))
    return sorted(found, key=lambda v: -v.number)


def save_version(live: Path, versions_dir: Path, operator: str) -> Version:
    """Keep a copy of the live knowledge as the next version."""
    number = max((v.number for v in versions(versions_dir)), default=0) + 1
    path = versions_dir / f"{number:05d}"
    copy_knowledge(live, path)
    at = datetime.now(UTC).isoformat(timespec="seconds")
    (path / "VERSION").write_text(f"{number}\t{at}\t{operator}\n", encoding="utf-8")
    return Version(number, at, operator, path)


def publish(live: Path, draft: Path, versions_dir: Path, operator: str) -> Version:
    """The draft becomes the live knowledge, and a version; the previous live one is kept as a version first."""
    if not versions(versions_dir):
        save_version(live, versions_dir, "(before the console)")
    copy_knowledge(draft, live)
    return save_version(live, versions_dir, operator)


def rollback(live: Path, draft: Path, versions_dir: Path, number: int, operator: str) -> Version:
    """Put an earlier version back, live and in the draft; recorded as a new version."""
    chosen = next((v for v in versions(versions_dir) if v.number == number), None)
    if chosen is None:
        raise EntryError(f"no version {number}")
    copy_knowledge(chosen.path, live)
    copy_knowledge(chosen.path, draft)
    return save_version(live, versions_dir, operator)


def discard_draft(live: Path, draft: Path) -> None:
    """Start the draft again from the live knowledge."""
    shutil.rmtree(draft, ignore_errors=True)
    ensure_draft(live, draft)


@dataclass(frozen=True)
class Regression:
    """A labelled question the live knowledge answers right and the draft does not."""

    question: str
    expected: tuple[str, ...]
    action: str
    taken_by: str | None  # the entry that now answers it, or the first offered

    @property
    def wrong(self) -> bool:
        """Answered with another entry, or the right one no longer even offered; an ask-back offering it is not."""
        return self.action != "clarify" or self.taken_by not in self.expected


def regressions(live_matcher, draft_matcher, labelled) -> list[Regression]:
    """Labelled questions answered right live but not with the draft: what a publish would change for the worse.

    Retraining moves the calibrated thresholds, so a few answered questions may become ask-backs that still
    offer the right entry; `Regression.wrong` tells those apart from the ones the gate refuses.
    """
    before = evaluate(live_matcher.match, labelled).outcomes
    after = evaluate(draft_matcher.match, labelled).outcomes
    broken = []
    for old, new in zip(before, after, strict=True):
        if old.correct and not new.correct:
            m = new.match
            offered = [c.faq_id for c in m.candidates]
            right_offered = next((f for f in offered if f in new.item.expect), None)
            taken = m.faq_id if m.action == "answer" else right_offered or (offered[0] if offered else None)
            broken.append(Regression(new.item.text, tuple(new.item.expect), m.action, taken))
    return broken
