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
