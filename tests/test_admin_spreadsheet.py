"""/admin/spreadsheet: the draft out as a workbook and back in, through the same library as `faq export/import`."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from admin_console import console_db, draft_of

from bot.storage import operators
from handlers.admin_knowledge import read_entry


def upload(operator, content: bytes, name: str, write: bool):
    data = {"sheet": (io.BytesIO(content), name), "csrf_token": operator.token("/admin/spreadsheet")}
    if write:
        data["write"] = "1"
    return operator.client.post("/admin/spreadsheet", data=data, content_type="multipart/form-data")


def test_an_edited_export_comes_back_into_the_draft_with_its_diff(admin_app, editor, kb_dir):
    exported = editor.client.get("/admin/spreadsheet/faqs.csv")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert "id" in rows[0] and "answer" in rows[0]
    unchanged = upload(editor, exported.data, "faqs.csv", write=True)
    assert "没有改动" in unescape(unchanged.get_data(as_text=True))

    row = next(r for r in rows if r["id"] == "gongji-what-is")
    row["answer"] = "政策问答（表格里改的）。"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    response = upload(editor, out.getvalue().encode("utf-8"), "faqs.csv", write=True)
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "已写入草稿" in page
    diff = page.split('<pre class="diff">')[1].split("</pre>")[0]
    assert re.search(r"^\+.*政策问答（表格里改的）。$", diff, re.M), diff
    draft = draft_of(admin_app)
    assert read_entry(draft, "gongji-what-is").answer == "政策问答（表格里改的）。"
    assert read_entry(kb_dir, "gongji-what-is").answer != "政策问答（表格里改的）。"
    assert operators.audit_entries(console_db(admin_app))[0]["action"] == "imported spreadsheet (draft)"


def test_the_workbook_downloads_and_a_file_of_another_kind_is_refused(editor):
    workbook = editor.client.get("/admin/spreadsheet/faqs.xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"
    assert editor.client.get("/admin/spreadsheet/faqs.pdf").status_code == 404
    assert upload(editor, b"id,answer\n", "faqs.txt", write=False).status_code == 400
    assert upload(editor, b"not,a,sheet\n1,2,3\n", "faqs.csv", write=True).status_code == 400
