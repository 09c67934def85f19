"""Which replies carry the local-rules note, and what the bot says about a place it has nothing local for."""

import pytest

from bot import Incoming

POLICY = "以参保地医保部门规定为准。"


def test_a_place_with_no_local_note_gets_one_line_not_the_answer_again(say, kb):
    first = say("家庭共济怎么开通")
    assert first.faq_id == "gongji-open-online" and "江苏" not in kb.faq("gongji-open-online").regions
    reply = say("江苏")
    assert reply.text.startswith("关于江苏，我这里没有当地的具体规定") and "\n" not in reply.text
    assert kb.faq("gongji-open-online").answer.splitlines()[0] not in reply.text
    assert reply.faq_id == "gongji-open-online"


def test_a_place_with_a_local_note_gets_the_answer_with_it(say):
    say("家庭共济怎么开通")
    assert "山西医保" in say("山西").text


def test_a_question_naming_a_place_without_a_note_says_so_after_the_answer(say, kb):
    reply = say("广州家庭共济怎么开通")
    assert reply.faq_id == "gongji-open-online"
    assert "关于广州，我这里没有当地的具体规定" in reply.text and "告诉我您的省份或城市" not in reply.text


def test_the_region_hint_is_only_for_entries_with_local_notes(say, kb):
    reply = say("亲情账户怎么解除绑定")
    assert reply.faq_id == "qinqing-unbind" and not kb.faq("qinqing-unbind").regions
    assert "告诉我您的省份或城市" not in reply.text


def test_answers_end_with_the_policy_note(say):
    assert say("家庭共济怎么开通").text.endswith(POLICY)


@pytest.mark.parametrize("text", ["你好", "谢谢", "帮助"])
def test_greetings_thanks_and_help_carry_no_policy_note(say, text):
    assert POLICY not in say(text).text


def test_feedback_and_subscribe_replies_carry_no_policy_note(say, bot):
    say("亲情账户最多能加几个人")
    assert POLICY not in say("有用").text
    greeting = bot.respond(Incoming("wechat", "new-user", kind="subscribe"))
    assert "欢迎" in greeting.text and POLICY not in greeting.text
