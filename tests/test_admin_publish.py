"""/admin/publish: the regression gate, publishing the draft as a version, rolling back (publishers only)."""

from __future__ import annotations

from html import unescape
from pathlib import Path

from test_admin_editor import form_of

from bot.storage import open_db, operators
from handlers.admin_knowledge import read_entry

QUESTION = "亲情账户绑定"  # asked back today; an alternate of qinqing-bind-app makes it an answer


def ask(client, text: str) -> dict:
    return client.post("/api/v1/ask", json={"text": text}).get_json()


def test_a_publish_that_makes_a_labelled_question_go_wrong_is_refused_naming_it(admin_app, publisher, kb_dir):
    live_before = (kb_dir / "faqs" / "gongji.yaml").read_bytes()
    what_is = form_of(publisher, "gongji-what-is")
    alternates = what_is["alternates"].split("\n")
    # Move most ways of asking what 共济 is to the entry about 亲情账户: questions about 共济 now land there.
    publisher.post("/admin/faqs/gongji-what-is", what_is | {"alternates": "\n".join(alternates[:6])}, "/admin/faqs")
    qinqing = form_of(publisher, "qinqing-what-is")
    moved = qinqing["alternates"] + "\n" + "\n".join(alternates[6:])
    publisher.post("/admin/faqs/qinqing-what-is", qinqing | {"alternates": moved}, "/admin/faqs")

    response = publisher.post("/admin/publish", form_page="/admin/publish")
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 409 and "would make questions answered right go wrong" in page
    broken = page.split('id="broken"')[1].split("</table>")[0]
    assert "<td>gongji-what-is</td><td>answer</td><td>qinqing-what-is</td>" in broken
    assert (kb_dir / "faqs" / "gongji.yaml").read_bytes() == live_before
    assert operators.audit_entries(open_db(admin_app.config["DATABASE"]))[0]["action"] == "publish refused"


def test_publish_then_roll_back(admin_app, publisher, kb_dir):
    client = admin_app.test_client()
    original = (kb_dir / "faqs" / "qinqing.yaml").read_bytes()
    assert ask(client, QUESTION)["action"] == "clarify"
    publisher.post("/admin/unanswered/alternate", {"example": QUESTION, "faq_id": "qinqing-bind-app"}, "/admin/")
    assert "qinqing.yaml" in publisher.client.get("/admin/publish").get_data(as_text=True)

    response = publisher.post("/admin/publish", form_page="/admin/publish")
    assert response.status_code == 302, unescape(response.get_data(as_text=True))
    assert QUESTION in read_entry(kb_dir, "qinqing-bind-app").alternates
    answered = ask(client, QUESTION)
    assert (answered["action"], answered["faq_id"]) == ("answer", "qinqing-bind-app")
    page = unescape(publisher.client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Published version 2" in page and "The draft is the same as the live knowledge" in page

    assert publisher.post("/admin/rollback", {"version": "1"}, "/admin/publish").status_code == 302
    assert (kb_dir / "faqs" / "qinqing.yaml").read_bytes() == original
    assert ask(client, QUESTION)["action"] == "clarify"
    assert QUESTION not in read_entry(Path(admin_app.config["KNOWLEDGE_DRAFT_DIR"]), "qinqing-bind-app").alternates
    actions = [(e["operator"], e["action"]) for e in operators.audit_entries(open_db(admin_app.config["DATABASE"]))]
    assert actions[:3] == [("pat", "rolled back"), ("pat", "published"), ("pat", "added alternate (draft)")]


def test_nothing_to_publish_and_an_unknown_version_are_400(publisher):
    assert publisher.post("/admin/publish", form_page="/admin/publish").status_code == 400
    assert publisher.post("/admin/rollback", {"version": "7"}, "/admin/publish").status_code == 400
    assert publisher.post("/admin/rollback", {"version": "x"}, "/admin/publish").status_code == 400
