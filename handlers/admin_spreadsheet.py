"""/admin/spreadsheet: the draft as an Excel or CSV file for the policy team, and their edited file back into it."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import Blueprint, abort, render_template, request, send_file

from bot.knowledge import spreadsheet

from . import admin_auth, limits
from .admin_knowledge import draft_dir

blueprint = Blueprint("admin_spreadsheet", __name__, url_prefix="/admin")
#: A workbook of the whole base is larger than the API's MAX_CONTENT_LENGTH; uploads here may be this big.
SHEET_MAX_BYTES = 10 * 1024 * 1024
KINDS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}


admin_auth.guard(blueprint)


@blueprint.get("/spreadsheet")
def sheet_page():
    return render_template("admin/spreadsheet.html")


@blueprint.get("/spreadsheet/faqs.<kind>")
def export_sheet(kind: str):
    """Every entry of the draft, one row each, as `faq export` writes it."""
    if kind not in KINDS:
        abort(404)
    rows = spreadsheet.export_rows(draft_dir())
    with tempfile.TemporaryDirectory(prefix="faq-export-") as scratch:
        path = Path(scratch) / f"faqs.{kind}"
        (spreadsheet.write_xlsx if kind == "xlsx" else spreadsheet.write_csv)(rows, path)
        content = path.read_bytes()
    return send_file(io.BytesIO(content), mimetype=KINDS[kind], as_attachment=True, download_name=f"faqs.{kind}")


@blueprint.post("/spreadsheet")
@limits.body_up_to(SHEET_MAX_BYTES)
def import_sheet():
    """Check the uploaded file against the draft (the diff and lint); with `write`, change the draft too."""
    upload = request.files.get("sheet")
    suffix = Path(upload.filename or "").suffix.lower() if upload else ""
    if upload is None or suffix not in (".xlsx", ".csv"):
        abort(400, description="请选择用本页导出的 .xlsx 或 .csv 文件。")
    write = request.form.get("write") == "1"
    with tempfile.TemporaryDirectory(prefix="faq-import-") as scratch:
        path = Path(scratch) / f"upload{suffix}"
        upload.save(path)
        try:
            result = spreadsheet.import_rows(draft_dir(), spreadsheet.read_rows(path), write=write)
        except spreadsheet.SheetError as exc:
            abort(400, description=str(exc))
    if result.written:
        admin_auth.audit("imported spreadsheet (draft)", upload.filename or "", ", ".join(result.changed_files))
    status = 400 if result.problems else 200
    return render_template("admin/spreadsheet.html", result=result, write=write), status
