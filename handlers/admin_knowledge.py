"""The few knowledge-file operations the console needs: read and write an entry, the draft, publish and rollback.

Thin on purpose: the knowledge-tools branch (bot/knowledge/) brings the round-trip editor, the regression gate
and versions as a library; these functions keep the console's side of that seam in one place.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

import bot.knowledge as knowledge
from bot.knowledge_source import content_hash
from bot.matching.evaluation import evaluate

#: The fields of an entry the editor shows, in the order they are written.
ENTRY_FIELDS = ("id", "question", "alternates", "answer", "related", "regions", "sources", "reviewed")


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


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the operator wrote on one
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


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


def faq_file_names(directory: Path) -> list[str]:
    return [f"faqs/{p.name}" for p in knowledge.faq_files(Path(directory))]


def _find(directory: Path, faq_id: str):
    for name in faq_file_names(directory):
        document = _yaml().load((Path(directory) / name).read_text(encoding="utf-8"))
        for entry in (document or {}).get("faqs") or []:
            if isinstance(entry, dict) and entry.get("id") == faq_id:
                return name, document, entry
    raise EntryError(f"no entry with id {faq_id!r}")


def read_entry(directory: Path, faq_id: str) -> EntryFields:
    """The entry's fields as written in its file."""
    name, _, entry = _find(directory, faq_id)
    return EntryFields(
        id=faq_id,
        file=name,
        question=str(entry.get("question") or ""),
        alternates=[str(a) for a in entry.get("alternates") or []],
        answer=str(entry.get("answer") or "").rstrip("\n"),
        related=[str(r) for r in entry.get("related") or []],
        regions={str(k): str(v) for k, v in (entry.get("regions") or {}).items()},
        sources=[str(s) for s in entry.get("sources") or []],
        reviewed=str(entry.get("reviewed") or ""),
    )


def write_entry(directory: Path, fields: EntryFields) -> None:
    """Write the fields back into the entry, keeping the file's comments, order and layout elsewhere."""
    name, document, entry = _find(directory, fields.id)
    _fill(entry, fields)
    _write(Path(directory) / name, document)


def add_entry(directory: Path, fields: EntryFields) -> None:
    """A new entry at the end of `fields.file`."""
    try:
        _find(directory, fields.id)
    except EntryError:
        pass
    else:
        raise EntryError(f"the id {fields.id!r} is taken")
    path = Path(directory) / fields.file
    if fields.file not in faq_file_names(directory):
        raise EntryError(f"no FAQ file {fields.file!r}")
    document = _yaml().load(path.read_text(encoding="utf-8"))
    entry = {"id": fields.id}
    document["faqs"].append(entry)
    _fill(document["faqs"][-1], fields)
    _write(path, document)


def add_alternate(directory: Path, faq_id: str, text: str) -> bool:
    """Append `text` to the entry's alternates; False if it is there already."""
    name, document, entry = _find(directory, faq_id)
    if text in [str(a) for a in entry["alternates"]]:
        return False
    entry["alternates"].append(text)
    _write(Path(directory) / name, document)
    return True


def _fill(entry, fields: EntryFields) -> None:
    values = {
        "question": fields.question,
        "alternates": fields.alternates,
        "answer": LiteralScalarString(fields.answer.rstrip("\n") + "\n") if "\n" in fields.answer else fields.answer,
        "related": fields.related,
        "regions": fields.regions,
        "sources": fields.sources,
        "reviewed": fields.reviewed,
    }
    for key, value in values.items():
        if not value and key in ("related", "regions"):
            entry.pop(key, None)
            continue
        if key in entry and _plain(entry[key]) == _plain(value):
            continue  # unchanged: keep it exactly as written (quotes, comments, dates)
        entry[key] = value


def _plain(value):
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value).rstrip("\n")


def _write(path: Path, document) -> None:
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    replace_file(path, buffer.getvalue().encode("utf-8"))


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


def regressions(live_matcher, draft_matcher, labelled) -> list[Regression]:
    """Labelled questions answered right live but not with the draft: what a publish would break."""
    before = evaluate(live_matcher.match, labelled).outcomes
    after = evaluate(draft_matcher.match, labelled).outcomes
    broken = []
    for old, new in zip(before, after, strict=True):
        if old.correct and not new.correct:
            m = new.match
            taken = m.faq_id or (m.candidates[0].faq_id if m.candidates else None)
            broken.append(Regression(new.item.text, tuple(new.item.expect), m.action, taken))
    return broken
