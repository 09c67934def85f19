"""The FAQ entries as a spreadsheet (one row per entry) for the policy team, and back.

Export writes every entry; import compares each row with the entry of the same id, changes only the
fields that differ (through `editing`, so the YAML keeps its layout), checks the result like `faq lint`
on a copy, and shows the diff. Nothing is written to the knowledge directory unless asked and clean,
so importing an unchanged export changes no byte. Rows for entries the sheet does not mention are left
alone: a row removed from the sheet does not delete an entry.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import check, source_files
from .editing import EditableEntry, EditError, FaqEditor, list_entries, write_text_atomically
from .problems import Problem

#: The columns, in order; `id` names the entry, `file` is where a new one goes (e.g. gongji.yaml).
COLUMNS = (
    "id",
    "file",
    "category",
    "question",
    "alternates",
    "answer",
    "regions",
    "related",
    "sources",
    "notes",
    "reviewed",
)
#: Cells holding a list: one item per line, or (ids) separated by commas.
LINE_LISTS = ("alternates", "notes")
ID_LISTS = ("related", "sources")


class SheetError(Exception):
    """The spreadsheet cannot be read as FAQ rows; the message says which row or column."""


@dataclass(frozen=True)
class ImportResult:
    """What importing a sheet would change: the diff, lint's problems on the result, whether it was written."""

    diff: str
    problems: list[Problem]
    changed_files: list[str]
    written: bool

    @property
    def changed(self) -> bool:
        return bool(self.changed_files)


def entry_row(entry: EditableEntry) -> dict[str, str]:
    """One entry as the text of its cells."""
    return {
        "id": entry.id,
        "file": entry.file.name,
        "category": entry.category,
        "question": entry.question,
        "alternates": "\n".join(entry.alternates),
        "answer": entry.answer,
        "regions": "\n".join(f"{place}: {note}" for place, note in entry.regions.items()),
        "related": ", ".join(entry.related),
        "sources": ", ".join(entry.sources),
        "notes": "\n".join(entry.notes),
        "reviewed": entry.reviewed,
    }


def export_rows(directory: str | Path) -> list[dict[str, str]]:
    """Every entry of the knowledge directory as a row."""
    return [entry_row(entry) for entry in list_entries(directory)]


def write_xlsx(rows: list[dict[str, str]], path: str | Path) -> None:
    """An Excel workbook with one sheet, FAQ, a header row and one row per entry."""
    from openpyxl import Workbook  # imported where used: it costs every flask command 0.16 s otherwise

    book = Workbook()
    sheet = book.active
    sheet.title = "FAQ"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([row.get(column, "") for column in COLUMNS])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula stays text
    book.save(path)


def write_csv(rows: list[dict[str, str]], path: str | Path) -> None:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text correctly."""
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in COLUMNS})


def read_rows(path: str | Path) -> list[dict[str, str]]:
    """Rows of a .xlsx or .csv file written by export (or edited since); SheetError if it is not one."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        table = _xlsx_table(path)
    elif path.suffix.lower() == ".csv":
        table = _csv_table(path)
    else:
        raise SheetError(f"{path.name}: expected a .xlsx or .csv file")
    if not table:
        raise SheetError(f"{path.name} is empty")
    header = [str(h or "").strip() for h in table[0]]
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise SheetError(f"{path.name}: unknown column(s) {', '.join(unknown)}; known: {', '.join(COLUMNS)}")
    for required in ("id", "answer"):
        if required not in header:
            raise SheetError(f"{path.name}: the '{required}' column is missing")
    rows, seen = [], {}
    for number, values in enumerate(table[1:], start=2):
        row = {h: _cell_text(v) for h, v in zip(header, values, strict=False) if h}
        if not any(row.values()):
            continue
        if not row.get("id"):
            raise SheetError(f"{path.name} row {number}: the id is empty")
        if row["id"] in seen:
            raise SheetError(f"{path.name} row {number}: id '{row['id']}' is also in row {seen[row['id']]}")
        seen[row["id"]] = number
        rows.append({"row": str(number), **row})
    return rows


def _xlsx_table(path: Path) -> list[tuple]:
    from openpyxl import load_workbook  # imported where used, as in write_xlsx
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise SheetError(f"{path.name} is not an Excel workbook ({exc})") from None
    try:
        return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _csv_table(path: Path) -> list[list[str]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as sheet:
            return list(csv.reader(sheet))
    except UnicodeDecodeError as exc:
        raise SheetError(f"{path.name} is not UTF-8 text ({exc.reason}); save it as “CSV UTF-8”") from None


def _cell_text(value: object) -> str:
    """A cell as text; a date Excel made of `2026-12-01` goes back to that text."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").strip()


def row_fields(row: dict[str, str]) -> dict:
    """A row's cells as the values `editing.update_entry` takes (only the columns the sheet has)."""
    fields: dict = {}
    for name in ("question", "answer", "reviewed"):
        if name in row:
            fields[name] = row[name]
    for name in LINE_LISTS:
        if name in row:
            fields[name] = [line.strip() for line in row[name].split("\n") if line.strip()]
    for name in ID_LISTS:
        if name in row:
            fields[name] = [part.strip() for part in row[name].replace("，", ",").split(",") if part.strip()]
    if "regions" in row:
        fields["regions"] = _regions(row)
    return fields


def _regions(row: dict[str, str]) -> dict[str, str]:
    notes = {}
    for line in row["regions"].split("\n"):
        if not line.strip():
            continue
        place, colon, note = line.partition(":" if ":" in line else "：")
        if not colon or not place.strip():
            raise SheetError(f"row {row['row']}: each line of 'regions' must be “省份: 提示”, not “{line.strip()}”")
        notes[place.strip()] = note.strip()
    return notes


def import_rows(directory: str | Path, rows: list[dict[str, str]], write: bool = False) -> ImportResult:
    """Apply the rows to a copy of `directory`, lint it and diff it; with `write` and no problems, update
    the changed files of `directory` (each replaced in one step)."""
    root = Path(directory)
    with tempfile.TemporaryDirectory(prefix="faq-import-") as scratch:
        copy = Path(scratch) / root.name
        shutil.copytree(root, copy, symlinks=False)
        _apply(copy, rows)
        changed = [p for p in source_files(copy) if _differs(p, root / p.relative_to(copy))]
        diff = "".join(_file_diff(root, copy, p) for p in changed)
        problems = _relabelled(check(copy)[1], copy, root) if changed else []
        written = bool(write and changed and not problems)
        if written:
            for path in changed:
                target = root / path.relative_to(copy)
                write_text_atomically(target, path.read_text(encoding="utf-8"))
        return ImportResult(diff, problems, [str(p.relative_to(copy)) for p in changed], written)


def _apply(directory: Path, rows: list[dict[str, str]]) -> None:
    editor = FaqEditor(directory)
    existing = {entry.id for entry in editor.entries()}
    for row in rows:
        fields = row_fields(row)
        try:
            if row["id"] in existing:
                editor.update(row["id"], **fields)
            elif not row.get("file"):
                raise SheetError(f"row {row['row']}: new entry '{row['id']}' needs a file (e.g. gongji.yaml)")
            else:
                editor.add(row["file"], {"id": row["id"], "category": row.get("category", ""), **fields})
        except EditError as exc:
            raise SheetError(f"row {row['row']}: {exc}") from None
    editor.save()


def _differs(path: Path, original: Path) -> bool:
    return not original.is_file() or path.read_bytes() != original.read_bytes()


def _file_diff(root: Path, copy: Path, path: Path) -> str:
    original = root / path.relative_to(copy)
    before = original.read_text(encoding="utf-8").splitlines(keepends=True) if original.is_file() else []
    after = path.read_text(encoding="utf-8").splitlines(keepends=True)
    name = f"{root.name}/{path.relative_to(copy)}"
    return "".join(difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"))


def _relabelled(problems: list[Problem], copy: Path, root: Path) -> list[Problem]:
    """Problems found in the scratch copy, named by the files they will change."""
    label = str(root)
    return [Problem(p.file.replace(str(copy), label), p.line, p.message) for p in problems]
