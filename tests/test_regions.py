import pytest


@pytest.mark.parametrize(
    ("text", "province", "place"),
    [
        ("深圳家庭共济能绑兄弟姐妹吗", "广东", "深圳"),
        ("呼和浩特家庭共计可以给孙子用吗", "内蒙古", "呼和浩特"),
        ("我在晋城市上班", "山西", "晋城"),
        ("山西省的亲情账户", "山西", "山西"),
        ("新疆维吾尔自治区能共济吗", "新疆", "新疆"),
        ("广西壮族自治区南宁", "广西", "南宁"),  # a province with its own city is that city
    ],
)
def test_city_or_province_maps_to_province_short_name(matcher, text, province, place):
    mention = matcher.analyzer.analyze(text).region
    assert (mention.province, mention.place) == (province, place)


@pytest.mark.parametrize("text", ["共济南京能办吗", "家庭共济宁波怎么开"])
def test_a_place_does_not_start_inside_a_domain_word(matcher, text):
    """共济南京 names 南京 (江苏), not 济南 (山东)."""
    mention = matcher.analyzer.analyze(text).region
    assert mention.province in {"江苏", "浙江"}


def test_no_region_when_none_is_named(matcher):
    assert matcher.analyzer.analyze("家庭共济怎么开通").region is None


def test_place_names_are_not_scored_as_words(matcher):
    assert "杭州" not in matcher.analyzer.analyze("杭州家庭共济怎么开通").tokens


def test_two_different_places_read_as_a_question_across_regions(matcher):
    """ "我在苏州，我爸在南京" says the family lives apart, whatever else the question says."""
    assert "异地" in matcher.analyzer.analyze("我在苏州，我爸在南京，能共济吗").tokens
    assert "异地" not in matcher.analyzer.analyze("我在苏州，能共济吗").tokens
    assert matcher.match("我在苏州，我爸在南京，能共济吗").faq_id == "gongji-cross-region"


@pytest.mark.parametrize(
    ("text", "province", "place"),
    [
        ("爸妈在外省交的医保 能加我亲情账户吗 我在深证", "广东", "深圳"),  # 证 for 圳: zheng / zhen
        ("我在杭洲上班 想给我妈开共济", "浙江", "杭州"),
        ("俺在石家装 咋给老伴绑亲情账户", "河北", "石家庄"),
        ("武汗市家庭共济怎么开", "湖北", "武汉"),
    ],
)
def test_a_place_misspelt_as_it_sounds_is_still_that_place(matcher, text, province, place):
    """Pinyin keyboards and voice input put a same-sounding character in a city's name."""
    mention = matcher.analyzer.analyze(text).region
    assert (mention.province, mention.place) == (province, place)


@pytest.mark.parametrize(
    "text",
    [
        "绑定以后马上能用吗",  # 后马 sounds like 侯马, inside 以后 and 马上
        "老伴卡上还剩多少钱",  # 上还 sounds like 上海
        "部分城市已经开通家庭共济了吗",  # 分城 sounds like 丰城
        "我在通话中怎么绑定",  # 通话 is a word of its own, not 通化
        "一进门就要刷医保码吗",
        "两个账户差不多大同小异吧",  # regions.yaml writes 大同市: 大同 alone is an everyday word
        "祝您长寿 亲情账户怎么加",
    ],
)
def test_everyday_words_are_not_places(matcher, text):
    assert matcher.analyzer.analyze(text).region is None


def test_a_name_listed_with_its_suffix_counts_alone_after_a_word_that_says_a_place_follows(matcher):
    mention = matcher.analyzer.analyze("在大同办家庭共济要带啥").region
    assert (mention.province, mention.place) == ("山西", "大同市")


def test_the_misspelt_place_reaches_the_match(matcher):
    match = matcher.match("我在深证 爸妈在老家交的医保 能加到我亲情账户里吗")
    assert (match.region, match.place) == ("广东", "深圳")
