"""Each decision band, through the real matcher and the project's knowledge base."""

import pytest

from bot.matching.decision import Thresholds, decide
from bot.matching.scoring import Scored


def scored(key, score):
    return Scored(key, score, key, {})


def test_clear_winner_is_answered(matcher):
    match = matcher.match("家庭共济怎么开通")
    assert (match.action, match.faq_id) == ("answer", "gongji-open-online")


def test_typo_heard_through_pinyin_is_answered(matcher):
    match = matcher.match("家庭公积怎么开通")
    assert (match.action, match.faq_id) == ("answer", "gongji-open-online")
    assert match.explanation.used_homophones


def test_pinyin_channel_never_reads_a_whole_other_word(matcher):
    """公积金 is a word of its own: the question is about housing funds, not 共济."""
    assert matcher.match("公积金怎么提取出来").action == "fallback"


@pytest.mark.parametrize("text", ["共济", "亲情账户"])
def test_one_word_questions_are_clarified_not_answered(matcher, text):
    match = matcher.match(text)
    assert match.action == "clarify"
    assert 2 <= len(match.candidates) <= 4


@pytest.mark.parametrize("text", ["医保", "怎么办", "红烧肉怎么做好吃", "明天杭州会下雨吗"])
def test_generic_or_unrelated_questions_fall_back(matcher, text):
    assert matcher.match(text).action == "fallback"


@pytest.mark.parametrize(
    "text",
    [
        "职工医保住院报销比例是多少",
        "灵活就业的医保在哪交",
        "异地就医备案怎么弄",
        "孩子发烧38度5要不要去医院",
        "我妈医保卡丢了怎么补办",
        "支付宝亲情卡怎么给我妈开通",
    ],
)
def test_other_insurance_topics_fall_back_even_with_shared_words(matcher, text):
    match = matcher.match(text)
    assert match.action == "fallback"


def test_fallback_names_the_out_of_scope_topic_it_resembles(matcher):
    assert matcher.match("嗓子疼咳嗽吃什么药好").intent == "ood-symptom"


@pytest.mark.parametrize(
    ("text", "intent"),
    [("你好", "greeting"), ("谢谢", "thanks"), ("人工客服", "human"), ("帮助", "help"), ("好的谢谢！", "thanks")],
)
def test_small_talk_is_recognised(matcher, text, intent):
    match = matcher.match(text)
    assert (match.action, match.intent) == ("smalltalk", intent)


def test_thanks_after_a_question_does_not_hide_the_question(matcher):
    match = matcher.match("亲情账户最多能加几个人？谢谢")
    assert (match.action, match.faq_id) == ("answer", "qinqing-limits")


def test_close_runner_up_means_clarify():
    t = Thresholds()
    decision = decide([scored("a", 0.60), scored("b", 0.59)], [], True, 3, t)
    assert decision.action == "clarify"
    assert [s.key for s in decision.options] == ["a", "b"]


def test_below_clarify_threshold_means_fallback():
    t = Thresholds()
    assert decide([scored("a", t.clarify - 0.01)], [], True, 3, t).action == "fallback"


def test_without_a_family_account_word_nothing_is_answered():
    assert decide([scored("a", 0.9)], [], False, 3, Thresholds()).action == "fallback"


def test_out_of_scope_topic_scoring_higher_wins():
    decision = decide([scored("a", 0.6)], [scored("ood-x", 0.7)], True, 3, Thresholds())
    assert decision.action == "fallback"


def test_thresholds_come_from_configuration(kb):
    from bot.matching import Matcher

    strict = Matcher(kb, Thresholds(answer=0.99))
    assert strict.match("家庭共济怎么开通").action == "clarify"


def test_out_of_scope_topic_close_behind_means_no_confident_answer():
    decision = decide([scored("a", 0.60)], [scored("ood-x", 0.59)], True, 3, Thresholds())
    assert decision.action == "clarify"


def test_naming_the_product_keeps_the_question_in_scope(matcher):
    """Out-of-scope examples never name 共济 or 亲情账户, so a question that does is about them."""
    match = matcher.match("家庭共济跨省要不要办异地就医备案")
    assert match.action in ("answer", "clarify") and match.intent is None
