"""Each decision band, through the real matcher and the project's knowledge base, and decide() on its own."""

import pytest

import bot.knowledge as knowledge
from bot.matching import Matcher, Policy
from bot.matching.decision import Ranked, Thresholds, decide

T = Thresholds(answer=0.8, clarify=0.2, option=0.08, max_options=3)


def test_clear_winner_is_answered(matcher):
    match = matcher.match("家庭共济怎么开通")
    assert (match.action, match.faq_id) == ("answer", "gongji-open-online")
    assert match.score >= matcher.thresholds.answer


def test_typo_heard_through_pinyin_is_answered(matcher):
    match = matcher.match("家庭公积怎么开通")
    assert (match.action, match.faq_id) == ("answer", "gongji-open-online")
    assert match.explanation.gathered.used_homophones


@pytest.mark.parametrize(
    ("text", "faq_id"),
    [
        ("家庭工具怎么开通", "gongji-open-online"),  # 工具 gong ju ≈ 共济 gong ji
        ("一保家庭供给怎么解绑", "gongji-unbind"),  # 一保 = 医保, 供给 = 共济 (read as a phrase)
    ],
)
def test_voice_homophones_outside_any_table_are_heard(matcher, text, faq_id):
    match = matcher.match(text)
    assert match.faq_id == faq_id or faq_id in [c.faq_id for c in match.candidates]
    assert match.explanation.analysis.heard is not None


def test_pinyin_channel_never_reads_a_whole_other_word(matcher):
    """公积金 is a word of its own: the question is about housing funds, not 共济."""
    assert matcher.match("公积金怎么提取出来").action == "fallback"


@pytest.mark.parametrize(("text", "faq_id"), [("家庭共济", "gongji-what-is"), ("亲情账户", "qinqing-what-is")])
def test_a_product_name_alone_is_answered_with_what_it_is(matcher, text, faq_id):
    match = matcher.match(text)
    assert (match.action, match.faq_id) == ("answer", faq_id)


@pytest.mark.parametrize(
    "text",
    ["医保", "怎么办", "红烧肉怎么做好吃", "明天杭州会下雨吗", "孙子上幼儿园一个月多少钱", "儿子结婚彩礼给多少合适"],
)
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
    assert matcher.match(text).action == "fallback"


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


def test_the_question_at_the_end_of_a_long_story_is_answered_or_offered(matcher):
    story = (
        "我儿子在深圳上班交的职工医保，我和老伴在老家农村交的居民医保，平时身体还行，"
        "就是每个月要买降压药，孙子也跟着我们住，儿子说他账户里的钱不少。这个共济要怎么解除绑定啊"
    )
    match = matcher.match(story)
    assert match.faq_id == "gongji-unbind" or (
        match.action == "clarify" and "gongji-unbind" in [c.faq_id for c in match.candidates]
    )
    assert match.explanation.analysis.tail is not None


def test_naming_a_product_never_gets_a_referral_away(matcher):
    """A misheard or odd question that names 共济 is about 共济: ask back rather than say it is not ours."""
    match = matcher.match("共济那个东西我搞不懂到底咋回事啊")
    assert match.action in ("answer", "clarify") and match.intent is None


def test_a_product_named_with_医保_is_never_referred_to_a_bank(matcher):
    """家庭账户 is 共济 and 医保 says whose: the bank's family-account referral is only for a bank's."""
    ours = matcher.match("你好，医保家庭账户怎么开？")
    assert ours.action in ("answer", "clarify") and ours.intent is None
    assert [c.faq_id for c in ours.candidates][0] == "gongji-open-online"
    assert matcher.match("招商银行家庭账户怎么开通").intent == "ood-bank-insurer-family"


@pytest.mark.parametrize("text", ["支付宝上能给我妈开共济吗", "在支付宝里怎么开共济", "微信里能开通家庭共济吗"])
def test_a_question_naming_only_共济_is_not_answered_about_亲情账户(matcher, text):
    """支付宝 and 微信 belong to the 亲情账户 binding entries too; the product the user named decides."""
    match = matcher.match(text)
    assert match.action != "answer" or match.faq_id.startswith("gongji-")
    assert match.candidates[0].faq_id.startswith("gongji-")
    evidence = match.explanation.gathered.evidence
    assert evidence.about_other_product("qinqing-bind-alipay")
    assert not any(evidence.about_other_product(faq.id) for faq in matcher.kb.faqs if faq.id.startswith("gongji-"))


def test_comparisons_and_general_entries_belong_to_no_one_product(matcher):
    """Naming 共济 counts against the 亲情账户 entries only: a comparison of the two is about both."""
    evidence = matcher.match("共济和个人账户有什么不一样").explanation.gathered.evidence
    assert evidence.about_other_product("qinqing-what-is")
    for neither in ("compare-qinqing-gongji", "compare-qinqing-personal", "card-lending"):
        assert not evidence.about_other_product(neither)
    assert matcher.match("共济和亲情账户有什么区别").faq_id == "compare-qinqing-gongji"


def test_a_province_with_its_own_city_is_one_place(matcher):
    """广东深圳 is one place: no 异地, and the city is kept for its local note."""
    match = matcher.match("广东深圳这边家庭共济怎么开通")
    assert (match.action, match.faq_id) == ("answer", "gongji-open-online")
    assert (match.region, match.place) == ("广东", "深圳")
    assert "异地" not in match.explanation.analysis.tokens


def test_two_different_places_still_count_as_across_regions(matcher):
    assert "异地" in matcher.match("我在苏州，我爸在南京，能共济吗").explanation.analysis.tokens


def test_the_answer_threshold_is_learned_to_meet_the_wrong_answer_target(kb, matcher):
    strict = Matcher(kb, Policy(wrong_answer_target=0.0), trainer=matcher.trainer)
    assert strict.thresholds.answer >= matcher.thresholds.answer
    assert matcher.thresholds.answer >= Policy().min_answer


def test_a_few_new_alternates_barely_move_the_learned_thresholds(kb_dir, matcher):
    """Operators edit a few questions at a time; every answer near the threshold must not flip with each edit."""
    entries = kb_dir / "faqs" / "gongji.yaml"
    relatives = ("表姐", "堂哥", "姑父", "舅妈", "干爹")
    added = "".join(f"      - 我{relative}能用我的家庭共济吗\n" for relative in relatives)
    text = entries.read_text(encoding="utf-8")
    anchor = "    alternates:\n"
    start = text.index(anchor, text.index("id: gongji-who")) + len(anchor)
    entries.write_text(text[:start] + added + text[start:], encoding="utf-8")
    edited = Matcher(knowledge.load(kb_dir))
    assert len(edited.trainer.stored) == len(matcher.trainer.stored) + 5
    assert edited.thresholds.answer == pytest.approx(matcher.thresholds.answer, abs=0.01)
    # Stories are fewer and their wrong answers spread thin: their threshold moves more, but not by a jump.
    assert edited.thresholds.story_answer == pytest.approx(matcher.thresholds.story_answer, abs=0.03)


def test_long_stories_have_their_own_learned_threshold(kb, matcher):
    strict = Matcher(kb, Policy(story_wrong_answer_target=0.0), trainer=matcher.trainer)
    assert strict.thresholds.story_answer >= matcher.thresholds.story_answer >= Policy().min_answer
    assert strict.thresholds.answer == matcher.thresholds.answer


def test_a_story_is_answered_on_the_story_threshold_and_a_short_question_is_not():
    story_thresholds = Thresholds(answer=0.8, clarify=0.2, option=0.08, max_options=3, story_answer=0.6)
    ranked = [Ranked("a", 0.7), Ranked("b", 0.2)]
    assert decide(ranked, story_thresholds, story=True).action == "answer"
    assert decide(ranked, story_thresholds, story=False).action == "clarify"


def test_explanation_shows_every_signal_and_the_probability(matcher):
    match = matcher.match("亲情账户怎么绑定家人")
    best = match.explanation.weighed[0]
    assert {"lexical", "learned", "at_end", "out_of_scope"} <= set(best.signals)
    assert best.probability == pytest.approx(match.score, abs=1e-4)


def test_probable_winner_is_answered():
    decision = decide([Ranked("a", 0.9), Ranked("b", 0.05)], T)
    assert decision.action == "answer"


def test_doubt_offers_the_probable_options_at_least_two():
    decision = decide([Ranked("a", 0.5), Ranked("b", 0.3), Ranked("c", 0.01)], T)
    assert decision.action == "clarify"
    assert [r.faq_id for r in decision.options] == ["a", "b"]
    lone = decide([Ranked("a", 0.5), Ranked("b", 0.01)], T)
    assert [r.faq_id for r in lone.options] == ["a", "b"]


def test_below_clarify_threshold_means_fallback():
    assert decide([Ranked("a", 0.19)], T).action == "fallback"
    assert decide([], T).action == "fallback"


def test_naming_the_product_keeps_the_question_in_scope(matcher):
    """Out-of-scope examples never name 共济 or 亲情账户, so a question that does is about them."""
    match = matcher.match("家庭共济跨省要不要办异地就医备案")
    assert match.action in ("answer", "clarify") and match.intent is None
