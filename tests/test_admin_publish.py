"""/admin/publish: the regression gate, publishing the draft as a version, rolling back (publishers only)."""

from __future__ import annotations

from html import unescape

from admin_console import console_db, draft_of, live_of
from test_admin_editor import form_of

from bot.storage import operators
from handlers.admin_knowledge import read_entry

ENTRY = "qinqing-bind-app"


def ask(client, text: str) -> dict:
    return client.post("/api/v1/ask", json={"text": text}).get_json()


def test_a_publish_that_makes_a_labelled_question_go_wrong_is_refused_naming_it(admin_app, publisher):
    live_before = (live_of(admin_app) / "faqs" / "gongji.yaml").read_bytes()
    what_is = form_of(publisher, "gongji-what-is")
    alternates = what_is["alternates"].split("\n")
    # Move most ways of asking what 共济 is to the entry about 亲情账户: questions about 共济 now land there.
    publisher.post("/admin/faqs/gongji-what-is", what_is | {"alternates": "\n".join(alternates[:6])}, "/admin/faqs")
    qinqing = form_of(publisher, "qinqing-what-is")
    moved = qinqing["alternates"] + "\n" + "\n".join(alternates[6:])
    publisher.post("/admin/faqs/qinqing-what-is", qinqing | {"alternates": moved}, "/admin/faqs")

    response = publisher.post("/admin/publish", form_page="/admin/publish")
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 409 and "一些现在回答正确的问题会答错" in page
    broken = page.split('id="broken"')[1].split("</table>")[0]
    # Each refused question is named with the entry that answers it now and what the draft would do instead.
    rows = [row for row in broken.split("<tr>") if "<td>gongji-what-is</td>" in row]
    assert rows and all(any(outcome in row for outcome in ("takes it", "asks back", "falls back")) for row in rows)
    assert (live_of(admin_app) / "faqs" / "gongji.yaml").read_bytes() == live_before
    assert operators.audit_entries(console_db(admin_app))[0]["action"] == "publish refused"


def publish_answer(publisher, answer: str):
    form = form_of(publisher, ENTRY) | {"answer": answer}
    publisher.post(f"/admin/faqs/{ENTRY}", form, form_page="/admin/faqs")
    return publisher.post("/admin/publish", form_page="/admin/publish")


def test_publish_then_roll_back(admin_app, publisher):
    client = admin_app.test_client()
    title = form_of(publisher, ENTRY)["question"]
    before = ask(client, ENTRY)["answer"]
    response = publish_answer(publisher, "新版：先激活医保电子凭证。\n1. 打开国家医保服务平台APP。")
    assert response.status_code == 302, unescape(response.get_data(as_text=True))
    assert ask(client, ENTRY)["answer"].startswith("新版") and ask(client, title)["faq_id"] == ENTRY
    page = unescape(publisher.client.get(response.headers["Location"]).get_data(as_text=True))
    assert "已发布第 2 版" in page and "草稿与线上知识库相同" in page
    versions = page.split('id="versions"')[1]
    assert f"changed entry {ENTRY}: answer" in versions and "first version" in versions  # 1: the files before
    assert admin_app.test_client().get("/healthz").get_json()["knowledge"]["version"] == 2

    assert publisher.post("/admin/rollback", {"version": "1"}, "/admin/publish").status_code == 302
    assert ask(client, ENTRY)["answer"] == before
    assert read_entry(draft_of(admin_app), ENTRY).answer == read_entry(live_of(admin_app), ENTRY).answer
    assert admin_app.test_client().get("/healthz").get_json()["knowledge"]["version"] == 1
    actions = [(e["operator"], e["action"]) for e in operators.audit_entries(console_db(admin_app))]
    assert actions[:3] == [("pat", "rolled back"), ("pat", "published"), ("pat", "edited entry (draft)")]


def test_nothing_to_publish_and_an_unknown_version_are_400(publisher):
    assert publisher.post("/admin/publish", form_page="/admin/publish").status_code == 400
    assert publisher.post("/admin/rollback", {"version": "7"}, "/admin/publish").status_code == 400
    assert publisher.post("/admin/rollback", {"version": "x"}, "/admin/publish").status_code == 400
