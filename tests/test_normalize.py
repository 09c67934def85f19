from bot.matching.normalize import normalize, strip_phrases


def test_full_width_becomes_half_width():
    assert normalize("国家医保ＡＰＰ２个月") == "国家医保app2个月"


def test_traditional_becomes_simplified():
    assert normalize("醫保家庭共濟是什麼") == "医保家庭共济是什么"


def test_punctuation_and_emoji_become_single_spaces():
    assert normalize("亲情账户？？怎么用😀!!好的") == "亲情账户 怎么用 好的"


def test_long_repeats_collapse_to_two():
    assert normalize("哈哈哈哈哈") == "哈哈"
    assert normalize("妈妈") == "妈妈"


def test_invisible_characters_are_dropped():
    assert normalize("亲情\u200b账户\ufeff") == "亲情账户"


def test_odd_unicode_does_not_raise():
    for text in ("", "\x00", "\ud7ff", "🀄️" * 50, "\u202e反向文字", "ｱｲｳ", "\U0010ffff"):
        assert isinstance(normalize(text), str)


def test_fillers_are_removed_longest_first(kb):
    """The lexicon keeps fillers longest first, so 请问一下 goes whole rather than leaving 一下."""
    assert strip_phrases("请问一下家庭共济怎么开", kb.lexicon.fillers) == "家庭共济怎么开"
