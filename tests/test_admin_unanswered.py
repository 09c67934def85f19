"""/admin/unanswered: fallbacks and rejected ask-backs in clusters of similar questions, and what to do with them."""

from __future__ import annotations

from html import unescape

import pytest
from admin_console import console_db, draft_of, live_of

from bot import Incoming
from bot.storage import operators
from handlers.admin_knowledge import read_entry

LOST_CARD = ["医保卡丢了怎么补办", "医保卡丢了怎么补办", "医保卡掉了咋补"]

pytestmark = pytest.mark.engines  # the console on SQLite, and on the PostgreSQL several hosts share


def ask(app, user: str, text: str):
    return app.extensions["bot"].respond(Incoming("wechat", user, text=text))


def clusters_page(operator) -> str:
    return unescape(operator.client.get("/admin/unanswered").get_data(as_text=True))


def cluster_of(page: str, question: str) -> str:
    """The section of the page for the cluster whose title is `question`."""
    return next(s for s in page.split('<section class="cluster">')[1:] if s.split("</h2>")[0].endswith(question))


def test_fallbacks_asking_the_same_thing_are_one_cluster_with_count_examples_and_closest_faq(admin_app, editor):
    for number, text in enumerate(LOST_CARD):
        assert ask(admin_app, f"u{number}", text).action == "fallback"
    assert ask(admin_app, "u9", "今天天气怎么样").action in ("fallback", "smalltalk")
    page = clusters_page(editor)
    lost_card = cluster_of(page, "医保卡丢了怎么补办")
    assert "3×" in lost_card and "医保卡掉了咋补" in lost_card
    assert "最接近的问答条目：" in lost_card and "<code>" in lost_card
    assert "今天天气怎么样" not in lost_card


def test_an_ask_back_the_user_did_not_answer_is_listed_and_one_answered_is_not(admin_app, editor):
    assert ask(admin_app, "walked-away", "亲情账户绑定").action == "clarify"
    assert ask(admin_app, "walked-away", "医保卡丢了怎么补办").action == "fallback"
    assert ask(admin_app, "said-nothing-more", "亲情账户绑定").action == "clarify"
    assert ask(admin_app, "picked", "共济绑定").action == "clarify"
    assert ask(admin_app, "picked", "1").action == "answer"
    page = clusters_page(editor)
    assert "2×" in cluster_of(page, "亲情账户绑定") and "反问后未选择" in cluster_of(page, "亲情账户绑定")
    assert "共济绑定" not in page


def test_adding_an_example_as_an_alternate_writes_the_draft_and_the_audit_log(admin_app, editor):
    ask(admin_app, "u1", "医保卡丢了怎么补办")
    response = editor.post(
        "/admin/unanswered/alternate",
        {"example": "医保卡丢了怎么补办", "faq_id": "card-lending"},
        form_page="/admin/unanswered",
    )
    assert response.status_code == 302 and "/admin/faqs/card-lending" in response.headers["Location"]
    draft = draft_of(admin_app)
    assert read_entry(draft, "card-lending").alternates[-1] == "医保卡丢了怎么补办"
    assert "医保卡丢了怎么补办" not in read_entry(live_of(admin_app), "card-lending").alternates
    latest = operators.audit_entries(console_db(admin_app))[0]
    assert (latest["operator"], latest["action"], latest["target"]) == (
        "ann",
        "added alternate (draft)",
        "card-lending",
    )


def test_starting_a_new_entry_from_a_cluster_opens_the_form_with_the_question(editor):
    response = editor.post(
        "/admin/unanswered/alternate", {"example": "医保卡丢了怎么补办", "faq_id": "(new)"}, "/admin/unanswered"
    )
    form = unescape(editor.client.get(response.headers["Location"]).get_data(as_text=True))
    assert 'name="question" value="医保卡丢了怎么补办"' in form


def test_a_cluster_marked_out_of_scope_leaves_the_list(admin_app, editor):
    for number, text in enumerate(LOST_CARD):
        ask(admin_app, f"u{number}", text)
    questions = ["医保卡丢了怎么补办", "医保卡掉了咋补"]
    response = editor.post("/admin/unanswered/out-of-scope", {"question": questions}, "/admin/unanswered")
    assert response.status_code == 302
    assert "医保卡丢了怎么补办" not in clusters_page(editor)
    assert operators.audit_entries(console_db(admin_app))[0]["action"] == "marked out of scope"


def test_an_action_without_its_fields_is_a_400(editor):
    assert editor.post("/admin/unanswered/alternate", {"example": ""}, "/admin/unanswered").status_code == 400
    assert editor.post("/admin/unanswered/out-of-scope", {}, "/admin/unanswered").status_code == 400
    unknown = {"example": "x", "faq_id": "no-such-entry"}
    assert editor.post("/admin/unanswered/alternate", unknown, "/admin/unanswered").status_code == 400
