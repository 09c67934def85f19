"""Popular questions picked by number, and asking for a person, through Bot.respond with a real SQLite file."""

import pytest

from bot import Bot, Incoming
from bot.knowledge import DEFAULT_DIR, load
from bot.knowledge_source import KnowledgeSource
from bot.matching import Policy

POPULAR = load(DEFAULT_DIR).popular


@pytest.fixture(scope="module")
def source():
    return KnowledgeSource(DEFAULT_DIR, Policy())


@pytest.fixture
def bot(source, tmp_path):
    return Bot(source, str(tmp_path / "bot.sqlite"), salt="test-salt")


def say(bot, text, user="openid-choices", **fields):
    return bot.respond(Incoming("wechat", user, text=text, **fields))


@pytest.mark.parametrize(
    "opening",
    [
        {"kind": "subscribe"},
        {"kind": "media", "text": "image"},
        {"text": "帮助"},
        {"kind": "click", "text": "MENU_POPULAR"},
        {"kind": "click", "text": "MENU_HELP"},
        {"text": "今天天气怎么样"},  # a fallback ends with the popular questions too
    ],
)
def test_replying_2_to_a_numbered_popular_list_answers_the_second(bot, opening):
    shown = bot.respond(Incoming("wechat", "openid-choices", **opening)).text
    assert "1. " in shown and "2. " in shown
    reply = say(bot, "2")
    assert reply.action == "answer" and reply.faq_id == POPULAR[1]
    assert say(bot, "第一个").faq_id is None  # the choice is used up by answering


def test_a_number_past_the_list_says_how_many_there_are(bot):
    bot.respond(Incoming("wechat", "openid-choices", kind="subscribe"))
    assert f"1 到 {len(POPULAR)}" in say(bot, "9").text


def test_asking_for_a_person_is_marked_for_handoff(bot):
    reply = say(bot, "转人工")
    assert reply.extra["handoff"] is True and "12393" in reply.text


def test_rejecting_a_fallback_is_a_handoff_not_feedback_on_an_earlier_answer(bot):
    say(bot, "家庭共济怎么开通")
    assert say(bot, "今天天气怎么样").action == "fallback"
    reply = say(bot, "没用")
    assert reply.extra.get("handoff") is True and reply.action != "feedback"


def test_unhelpful_after_an_answer_is_still_feedback(bot):
    say(bot, "今天天气怎么样")
    say(bot, "家庭共济怎么开通")
    reply = say(bot, "没用")
    assert reply.action == "feedback" and not reply.extra.get("handoff")
