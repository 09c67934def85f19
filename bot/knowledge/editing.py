"""Change FAQ entries in their YAML files the way an operator would by hand.

The files are read and written with ruamel.yaml's round trip: comments, key order, quoting, `|` answers,
`[a, b]` lists and blank lines stay as they were, so a file changed here and one changed in an editor
diff cleanly; writing an entry back unchanged leaves the file byte for byte the same.

Every function takes the knowledge directory (the live one or an editor's draft) and plain values;
none checks the result against the other files: run `bot.knowledge.check(directory)` after a change.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from . import faq_files

#: The fields update_entry() may change, in the order a new entry is written.
EDITABLE_FIELDS = ("question", "alternates", "answer", "related", "regions", "sources", "notes", "reviewed")
#: Where each field goes in an entry that lacks it: after the last of these it has.
FIELD_ORDER = (
    "id",
    "category",
    "question",
    "alternates",
    "answer",
    "related",
    "regions",
    "sources",
    "notes",
    "reviewed",
)
#: Lists a new entry writes on one line, `[a, b]`.
FLOW_LISTS = ("related", "sources")


class EditError(Exception):
    """A change that cannot be made: no such entry, an id already used, a file that does not parse."""


@dataclass(frozen=True)
class EditableEntry:
    """An FAQ entry as plain values, and the file it lives in."""

    id: str
    file: Path
    question: str
    alternates: tuple[str, ...]
    answer: str
    sources: tuple[str, ...] = ()  # ids from sources.yaml
    notes: tuple[str, ...] = ()  # what the sources leave open, for reviewers; never shown to users
    reviewed: str = ""
    related: tuple[str, ...] = ()
    regions: dict[str, str] = field(default_factory=dict)
    category: str = ""  # the entry's own; empty when the file's `category:` applies


def round_trip_yaml() -> YAML:
    """The ruamel.yaml settings that reproduce our files: 2-space maps, `  - ` lists, no line folding."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 100_000  # never fold a long question or note onto two lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    return yaml


def read_document(path: Path) -> CommentedMap:
    """One FAQ file as ruamel's comment-keeping mapping; EditError if it does not parse."""
    try:
        data = round_trip_yaml().load(path.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        raise EditError(f"{path.name} does not parse; fix it by hand first ({exc})") from None
    if not isinstance(data, CommentedMap) or not isinstance(data.get("faqs"), CommentedSeq):
        raise EditError(f"{path.name} has no 'faqs:' list")
    return data


def dump_document(data: CommentedMap) -> str:
    """The text write_document() would write."""
    out = io.StringIO()
    round_trip_yaml().dump(data, out)
    return out.getvalue()


def write_document(path: Path, data: CommentedMap) -> None:
    """Replace the file in one step (a reader sees the old or the new file, never half of one)."""
    write_text_atomically(path, dump_document(data))


def write_text_atomically(path: Path, text: str) -> None:
    """Write to a hidden temporary file beside `path`, then rename it over `path`."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FaqEditor:
    """Several changes to one knowledge directory, each FAQ file parsed once and written once by save().

    ruamel.yaml's round trip is pure Python (about half a second per file): a spreadsheet import of every
    entry goes through one editor; the functions below are one-change shortcuts.
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._documents: dict[Path, tuple[str, CommentedMap]] | None = None
        self._added: dict[Path, list[str]] = {}

    def documents(self) -> dict[Path, tuple[str, CommentedMap]]:
        """Each FAQ file that parses: its text as read and its document (a broken file is lint's to name)."""
        if self._documents is None:
            self._documents = {}
            for path in faq_files(self.directory):
                try:
                    self._documents[path] = (path.read_text(encoding="utf-8"), read_document(path))
                except (EditError, UnicodeDecodeError):
                    continue
        return self._documents

    def find(self, faq_id: str) -> tuple[Path, CommentedMap]:
        """The file holding entry `faq_id` and the entry's mapping; EditError if there is none."""
        for path, (_, data) in self.documents().items():
            for entry in data["faqs"]:
                if isinstance(entry, CommentedMap) and str(entry.get("id")) == faq_id:
                    return path, entry
        raise EditError(f"no FAQ entry with id '{faq_id}'")

    def read(self, faq_id: str) -> EditableEntry:
        path, entry = self.find(faq_id)
        return _plain(path, entry)

    def entries(self) -> list[EditableEntry]:
        """Every entry, in file order."""
        return [
            _plain(path, entry)
            for path, (_, data) in self.documents().items()
            for entry in data["faqs"]
            if isinstance(entry, CommentedMap) and entry.get("id")
        ]

    def update(self, faq_id: str, **changes) -> Path:
        """Set the given fields (names from EDITABLE_FIELDS) of entry `faq_id`; the rest stays as written."""
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            editable = ", ".join(EDITABLE_FIELDS)
            raise EditError(f"cannot edit field(s) {', '.join(sorted(unknown))}; editable: {editable}")
        path, entry = self.find(faq_id)
        for name, value in changes.items():
            _set_field(entry, name, value)
        return path

    def add_alternate(self, faq_id: str, text: str) -> Path:
        """Append one more way of asking to entry `faq_id` (nothing happens if it is already there)."""
        text = text.strip()
        if not text:
            raise EditError("the alternate question is empty")
        current = self.read(faq_id)
        if text == current.question or text in current.alternates:
            return current.file
        return self.update(faq_id, alternates=[*current.alternates, text])

    def add(self, file_name: str, entry: EditableEntry | dict) -> Path:
        """Append a new entry to faqs/`file_name` (e.g. "gongji.yaml"); EditError if the id is taken."""
        values = _as_dict(entry)
        faq_id = str(values.get("id") or "").strip()
        if not faq_id:
            raise EditError("a new entry needs an id")
        try:
            self.find(faq_id)
        except EditError:
            pass
        else:
            raise EditError(f"id '{faq_id}' is already used")
        path = self.directory / "faqs" / file_name
        if path not in self.documents():
            raise EditError(f"no FAQ file faqs/{file_name}")
        new = CommentedMap()
        new["id"] = faq_id
        if values.get("category"):
            new["category"] = values["category"]
        for name in EDITABLE_FIELDS:
            if values.get(name) not in (None, "", (), [], {}):
                _set_field(new, name, values[name])
        self.documents()[path][1]["faqs"].append(new)
        self._added.setdefault(path, []).append(faq_id)
        return path

    def save(self) -> list[Path]:
        """Write every file whose text changed, each in one step; the files written."""
        written = []
        for path, (original, data) in (self._documents or {}).items():
            text = dump_document(data)
            for faq_id in self._added.get(path, ()):
                text = _separated(text, faq_id)
            if text != original:
                write_text_atomically(path, text)
                written.append(path)
        self._documents, self._added = None, {}
        return written


def read_entry(directory: str | Path, faq_id: str) -> EditableEntry:
    """The entry `faq_id` as plain values, for a form."""
    return FaqEditor(directory).read(faq_id)


def list_entries(directory: str | Path) -> list[EditableEntry]:
    """Every entry of every FAQ file, in file order (files that do not parse are left out)."""
    return FaqEditor(directory).entries()


def update_entry(directory: str | Path, faq_id: str, **changes) -> Path:
    """Write the given fields (names from EDITABLE_FIELDS) into entry `faq_id`; the rest stays as written.

    Lists are changed item by item, so the comments beside untouched items stay; an empty value removes
    an optional field (related, regions, notes). Returns the entry's file; it is not rewritten if nothing changed.
    """
    editor = FaqEditor(directory)
    path = editor.update(faq_id, **changes)
    editor.save()
    return path


def add_alternate(directory: str | Path, faq_id: str, text: str) -> Path:
    """Append one more way of asking to entry `faq_id` (nothing happens if it is already there)."""
    editor = FaqEditor(directory)
    path = editor.add_alternate(faq_id, text)
    editor.save()
    return path


def add_entry(directory: str | Path, file_name: str, entry: EditableEntry | dict) -> Path:
    """Append a new entry to faqs/`file_name` (e.g. "gongji.yaml"), which must exist; EditError if the id is taken."""
    editor = FaqEditor(directory)
    path = editor.add(file_name, entry)
    editor.save()
    return path


def _separated(text: str, faq_id: str) -> str:
    """Put a blank line before the new last entry when the file separates its entries that way."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.lstrip().startswith("- id:")]
    if len(starts) < 3 or not any(lines[i - 1] == "" for i in starts[1:-1]):
        return text
    last = starts[-1]
    if lines[last].strip() == f"- id: {faq_id}" and lines[last - 1] != "":
        lines.insert(last, "")
    return "\n".join(lines)


def _as_dict(entry: EditableEntry | dict) -> dict:
    if isinstance(entry, EditableEntry):
        return {name: getattr(entry, name) for name in ("id", "category", *EDITABLE_FIELDS)}
    return dict(entry)


def _plain(path: Path, entry: CommentedMap) -> EditableEntry:
    regions = entry.get("regions") or {}
    return EditableEntry(
        id=str(entry.get("id")),
        file=path,
        question=str(entry.get("question") or ""),
        alternates=tuple(str(a) for a in entry.get("alternates") or ()),
        answer=str(entry.get("answer") or "").strip(),
        sources=tuple(str(s) for s in entry.get("sources") or ()),
        notes=tuple(str(n) for n in entry.get("notes") or ()),
        reviewed=str(entry.get("reviewed") or ""),
        related=tuple(str(r) for r in entry.get("related") or ()),
        regions={str(k): str(v) for k, v in regions.items()} if isinstance(regions, dict) else {},
        category=str(entry.get("category") or ""),
    )


def _set_field(entry: CommentedMap, name: str, value) -> None:
    if name in ("alternates", "related", "sources", "notes"):
        items = [str(v).strip() for v in value or () if str(v).strip()]
        if not items and name in ("related", "notes"):
            entry.pop(name, None)
            return
        _place(entry, name, CommentedSeq(), flow=name in FLOW_LISTS)
        _replace_items(entry[name], items)
    elif name == "regions":
        notes = {str(k).strip(): str(v).strip() for k, v in (value or {}).items() if str(v).strip()}
        if not notes:
            entry.pop(name, None)
            return
        _place(entry, name, CommentedMap())
        _replace_mapping(entry[name], notes)
    elif name == "answer":
        text = str(value).strip() + "\n"
        if str(entry.get(name)) != text:
            _place(entry, name, None)
            entry[name] = LiteralScalarString(text)
    elif name == "reviewed":
        _set_date(entry, value)
    else:
        text = str(value).strip()
        if str(entry.get(name)) != text:
            _place(entry, name, None)
            entry[name] = text


def _set_date(entry: CommentedMap, value) -> None:
    """`reviewed: 2026-11-26` stays an unquoted date, as operators write it."""
    text = value.isoformat() if isinstance(value, dt.date) else str(value).strip()
    if str(entry.get("reviewed")) == text:
        return
    try:
        written = dt.date.fromisoformat(text)
    except ValueError:
        written = text  # lint will say it is not a date
    _place(entry, "reviewed", None)
    entry["reviewed"] = written


def _place(entry: CommentedMap, name: str, empty, flow: bool = False) -> None:
    """Make sure `name` is in the entry, inserted where FIELD_ORDER puts it, with `empty` if it was missing."""
    if name in entry:
        if empty is not None and not isinstance(entry[name], type(empty)):
            entry[name] = empty
            if flow:
                entry[name].fa.set_flow_style()
        return
    before = FIELD_ORDER[: FIELD_ORDER.index(name)]
    position = max((i + 1 for i, key in enumerate(entry) if key in before), default=len(entry))
    entry.insert(position, name, empty if empty is not None else "")
    if flow and isinstance(empty, CommentedSeq):
        empty.fa.set_flow_style()


def _replace_items(seq: CommentedSeq, wanted: list[str]) -> None:
    """Turn `seq` into `wanted` with the fewest item changes, keeping the untouched items (and their quotes)."""
    current = [str(item) for item in seq]
    opcodes = difflib.SequenceMatcher(a=current, b=wanted, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(opcodes):
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                seq[i1 + offset] = wanted[j1 + offset]
            continue
        for index in reversed(range(i1, i2)):
            del seq[index]
        for offset, text in enumerate(wanted[j1:j2]):
            seq.insert(i1 + offset, text)


def _replace_mapping(mapping: CommentedMap, wanted: dict[str, str]) -> None:
    """Turn `mapping` into `wanted`: removed keys go, changed values change in place, new keys go last."""
    for key in [k for k in mapping if str(k) not in wanted]:
        del mapping[key]
    for key, value in wanted.items():
        if str(mapping.get(key)) != value:
            mapping[key] = value
