"""The first line of a reply answers the question asked: yes or no first, in the user's terms."""

import pytest

from bot.conversation import Conversation
from bot.messages import Incoming
from bot.session import State


@pytest.fixture(scope="module")
def conversation(kb, matcher):
    return Conversation(kb, matcher)


def first_line(conversation, text):
    turn = conversation.turn(Incoming("cli", "u", text=text, paged=False), State())
    assert turn.reply.action == "answer", (text, turn.reply.action)
    return turn.reply.text.splitlines()[0]


@pytest.mark.parametrize(
    ("question", "starts"),
    [
        ("保健品能用共济的钱买吗", "保健品、健身这类不能付"),
        ("居民医保的家人能不能用我的钱", "能。"),
        ("医保卡能借给我妈用吗", "不能。"),
        ("亲情账户里有钱吗", "亲情账户里没有钱"),
    ],
)
def test_a_yes_no_question_gets_its_yes_or_no_first(conversation, question, starts):
    assert first_line(conversation, question).startswith(starts)


def test_which_one_to_open_names_the_one_to_open_first(conversation):
    line = first_line(conversation, "亲情账户和家庭共济我该给我妈开哪个")
    assert line.startswith("想用您的钱给家人") and "开家庭共济" in line


def test_answers_say_no_source_caveats_to_users(kb):
    for faq in kb.faqs:
        for text in (faq.answer, *faq.regions.values()):
            assert "据文章" not in text and "未见官方" not in text, faq.id
