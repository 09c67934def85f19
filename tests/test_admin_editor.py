"""The FAQ editor and try-it in /admin: the draft written back as a person would, lint on save, the preview."""

from __future__ import annotations

import difflib
import re
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

from admin_console import console_db, draft_of

from bot.storage import operators
from handlers.admin_knowledge import read_entry

ENTRY = "gongji-what-is"
NEW_ANSWER = "可以。职工医保个人账户的钱可以给近亲属用（测试改写）。\n1. 先在国家医保服务平台开通。\n2. 再添加家人。"


def form_of(operator, faq_id: str = ENTRY) -> dict:
    """The editor's form as the page fills it."""
    page = unescape(operator.client.get(f"/admin/faqs/{faq_id}").get_data(as_text=True))
    fields = {name: value for name, value in re.findall(r'<input name="(\w+)" (?:type="date" )?value="([^"]*)"', page)}
    for name, value in re.findall(r'<textarea name="(\w+)"[^>]*>(.*?)</textarea>', page, re.S):
        fields[name] = value
    return fields


def draft_file(admin_app, name: str = "faqs/gongji.yaml") -> Path:
    return draft_of(admin_app) / name


def test_saving_an_unchanged_form_leaves_the_file_byte_for_byte_as_it_was(admin_app, editor, kb_dir):
    response = editor.post(f"/admin/faqs/{ENTRY}", form_of(editor), form_page=f"/admin/faqs/{ENTRY}")
    assert response.status_code == 200 and "已保存到草稿" in response.get_data(as_text=True)
    assert draft_file(admin_app).read_bytes() == (kb_dir / "faqs" / "gongji.yaml").read_bytes()


def test_a_batch_of_alternates_pasted_into_the_busiest_entry_is_saved(admin_app, editor, kb):
    """The form carries every alternate, URL-encoded (nine bytes a character): past the API's 64 KB body limit."""
    busiest = max(kb.faqs, key=lambda faq: len(faq.alternates))
    form = form_of(editor, busiest.id)
    pasted = [f"运营第{n}次补充的用户问法：亲情账户到底是个什么东西" for n in range(80)]
    form["alternates"] += "\n" + "\n".join(pasted)
    assert len(urlencode(form).encode()) > 64 * 1024
    response = editor.post(f"/admin/faqs/{busiest.id}", form, form_page=f"/admin/faqs/{busiest.id}")
    assert response.status_code == 200 and "已保存到草稿" in response.get_data(as_text=True)
    assert read_entry(draft_of(admin_app), busiest.id).alternates[-80:] == pasted


def test_editing_an_answer_changes_only_that_answer_in_the_draft(admin_app, editor, kb_dir):
    form = form_of(editor) | {"answer": NEW_ANSWER}
    page = editor.post(f"/admin/faqs/{ENTRY}", form, form_page=f"/admin/faqs/{ENTRY}").get_data(as_text=True)
    assert read_entry(draft_of(admin_app), ENTRY).answer == NEW_ANSWER
    original = (kb_dir / "faqs" / "gongji.yaml").read_text(encoding="utf-8").splitlines()
    edited = draft_file(admin_app).read_text(encoding="utf-8").splitlines()
    assert edited[:3] == original[:3]  # the file's comments stay
    added = [line[2:].strip() for line in difflib.ndiff(original, edited) if line.startswith("+ ")]
    assert added == NEW_ANSWER.splitlines()  # the new answer's lines, and no other line of the file
    assert (kb_dir / "faqs" / "gongji.yaml").read_text(encoding="utf-8") == "\n".join(original) + "\n"  # live as before
    # The preview shows the new answer as WeChat and the chat page would, the lint its verdict.
    assert "测试改写" in unescape(page.split('id="preview"')[1])
    assert "检查结果：这个文件没有问题" in page
    entries = operators.audit_entries(console_db(admin_app))
    latest = entries[0]
    assert (latest["operator"], latest["action"], latest["target"], latest["detail"]) == (
        "ann",
        "edited entry (draft)",
        ENTRY,
        "answer",
    )


def test_lint_on_save_names_the_file_and_line(editor):
    form = form_of(editor) | {"alternates": "家庭共济是啥意思\n共济是怎么回事"}
    page = unescape(editor.post(f"/admin/faqs/{ENTRY}", form, form_page=f"/admin/faqs/{ENTRY}").get_data(as_text=True))
    lint = page.split('id="lint">')[1].split("</pre>")[0]
    assert re.search(r"faqs/gongji\.yaml:\d+: .*alternates", lint), lint


def test_a_regional_note_without_a_place_is_refused_and_nothing_typed_is_lost(admin_app, editor, kb_dir):
    form = form_of(editor) | {"answer": NEW_ANSWER, "regions": "武汉 只写了说明没有冒号"}
    response = editor.post(f"/admin/faqs/{ENTRY}", form, form_page=f"/admin/faqs/{ENTRY}")
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "地区说明第 1 行" in page
    assert "武汉 只写了说明没有冒号" in page and "测试改写" in page
    assert read_entry(draft_of(admin_app), ENTRY).answer != NEW_ANSWER


def test_an_unknown_entry_is_a_404_saying_so_in_chinese(editor):
    response = editor.client.get("/admin/faqs/no-such-entry")
    assert response.status_code == 404
    assert "没有 id 为“no-such-entry”的问答条目" in unescape(response.get_data(as_text=True))


def test_a_new_entry_with_a_taken_id_is_refused_in_chinese_and_nothing_typed_is_lost(editor):
    form = {"id": ENTRY, "file": "faqs/gongji.yaml", "question": "新问题", "answer": "新回答", "reviewed": "2026-11-30"}
    response = editor.post("/admin/faqs/new", form, "/admin/faqs/new")
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and f"未保存：id“{ENTRY}”已被使用" in page
    assert "新问题" in page and "新回答" in page


def test_a_long_answer_is_previewed_in_wechat_pages(editor):
    long_answer = "\n\n".join(f"{n}. " + "这是一段很长的说明文字。" * 25 for n in range(1, 8))
    form = form_of(editor) | {"answer": long_answer}
    page = unescape(editor.post(f"/admin/faqs/{ENTRY}", form, form_page=f"/admin/faqs/{ENTRY}").get_data(as_text=True))
    wechat = page.split('class="wechat">')[1].split("<h3>")[0]
    assert wechat.count('<div class="bubble user">更多</div>') >= 1
    assert "回复“更多”" in wechat or "更多" in wechat.split('class="bubble">')[1]
    chat = page.split('class="chat">')[1]
    assert "更多" not in chat.split("</div>")[0]


def test_try_it_shows_the_reply_and_why(editor):
    page = unescape(
        editor.post("/admin/try", {"question": "家庭共济怎么开通", "against": "live"}, "/admin/try").get_data(
            as_text=True
        )
    )
    result = page.split('id="try-result"')[1]
    assert "国家医保服务平台" in result
    assert "probability that the FAQ is right" in result and "decision:" in result


def test_try_it_refuses_an_unknown_knowledge_and_a_too_long_question(editor):
    assert editor.post("/admin/try", {"question": "共济", "against": "yesterday"}, "/admin/try").status_code == 400
    assert editor.post("/admin/try", {"question": "共" * 501}, "/admin/try").status_code == 400


def test_an_old_review_date_is_a_warning_at_its_line(editor):
    form = form_of(editor) | {"reviewed": "2020-01-01"}
    page = unescape(editor.post(f"/admin/faqs/{ENTRY}", form, form_page=f"/admin/faqs/{ENTRY}").get_data(as_text=True))
    assert "检查结果：这个文件没有问题" in page
    warnings = page.split('id="warnings">')[1].split("</pre>")[0]
    assert re.search(r"faqs/gongji\.yaml:\d+: .*2020-01-01", warnings), warnings
