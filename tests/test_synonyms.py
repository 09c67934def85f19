import pytest

from bot.matching.synonyms import canonicalize, content_words


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("家庭账户", "共济"),
        ("共济账户", "共济"),
        ("家庭共济账户", "共济"),
        ("社保卡", "医保卡"),
        ("小孩", "孩子"),
        ("女儿", "孩子"),
        ("爸妈", "父母"),
        ("老人", "父母"),
        ("新农合", "居民医保"),
    ],
)
def test_variants_map_to_one_canonical_word(kb, variant, canonical):
    assert canonicalize([variant], kb.lexicon.synonyms) == [canonical]


def test_unknown_words_stay(kb):
    assert canonicalize(["红烧肉"], kb.lexicon.synonyms) == ["红烧肉"]


def test_stop_words_and_repeats_are_dropped():
    assert content_words(["我", "的", "共济", "共济", "a"], frozenset({"我", "的"})) == ["共济"]


def test_questions_and_faqs_share_one_vocabulary(matcher):
    """The same canonicalisation runs on stored questions and on what users type."""
    typed = matcher.analyzer.analyze("小孩的社保卡能不能绑到家庭账户").tokens
    assert {"孩子", "医保卡", "共济"} <= set(typed)
