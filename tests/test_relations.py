"""Relatives named in a question (relations.yaml): found, linted, and answered for first, on the real knowledge."""

import pytest

import bot.knowledge as knowledge
from bot.relations import find_relations

NOT_NEAR = "不在《民法典》规定的近亲属范围内，不能用您的个人账户共济"
CHECK_LOCALLY = "请确认您参保地是否已落地"


def first_line(reply):
    return reply.text.splitlines()[0]


@pytest.mark.parametrize(
    "question, named",
    [
        ("公公婆婆能用我的医保账户吗", "公公婆婆"),
        ("丈母娘可以用我的医保个人账户买药吗", "丈母娘"),
        ("侄子能用我的医保账户吗", "侄子"),
        ("家庭共济能给舅舅用吗", "舅舅"),
        ("表哥可以共济吗", "表哥"),
        ("家庭共济能绑女婿吗", "女婿"),
        # each holds a near relative's word (儿子, 爷爷, 媳妇), which must not answer for it
        ("侄儿子能用我的医保账户吗", "侄儿子"),
        ("太爷爷能用我的医保账户吗", "太爷爷"),
        ("孙媳妇能用我的医保个人账户吗", "孙媳妇"),
        ("小舅子能用我的医保账户吗", "小舅子"),
        ("干儿子能用我的医保账户吗", "干儿子"),
        ("表哥哥能用我的医保账户吗", "表哥哥"),
        ("姨奶奶能用我的医保账户吗", "姨奶奶"),
    ],
)
def test_in_laws_and_other_relatives_get_a_no_that_names_them(say, kb, question, named):
    reply = say(question)
    assert reply.action == "answer" and kb.relations.entries.get(reply.faq_id) == "gongji"
    assert first_line(reply).startswith(named + NOT_NEAR)


def test_in_law_questions_are_answered_by_who_can_be_covered(say):
    assert say("公公婆婆能用我的医保账户吗").faq_id == "gongji-who"


@pytest.mark.parametrize(
    "question, named",
    [
        ("我哥能用我的医保账户吗", "您哥"),
        ("深圳家庭共济能绑兄弟姐妹吗", "兄弟姐妹"),
        ("奶奶能用我的医保账户吗", "奶奶"),
        ("外孙能用我的医保个人账户吗", "外孙"),
    ],
)
def test_siblings_grandparents_and_grandchildren_get_a_yes_under_the_2024_rules(say, question, named):
    line = first_line(say(question))
    assert line.startswith("按2024年起的国家规定，" + named + "属于近亲属，可以")
    assert CHECK_LOCALLY in line


@pytest.mark.parametrize(
    "question, named",
    [
        ("家庭共济能绑我老婆吗", "老婆"),
        ("家庭共济能给儿子用吗", "儿子"),
        ("家庭共济能绑那口子吗", "那口子"),  # dialect words for a spouse
        ("家庭共济能绑我婆娘吗", "您婆娘"),
    ],
)
def test_spouse_parents_and_children_get_a_plain_yes(say, question, named):
    line = first_line(say(question))
    assert line.startswith(named + "属于近亲属，可以") and CHECK_LOCALLY not in line


def test_relatives_of_different_standing_each_get_their_line_before_the_answer(say):
    lines = say("我爸妈和公公婆婆都能用我的医保账户吗").text.splitlines()
    assert lines[0].startswith("爸妈属于近亲属") and lines[1].startswith("公公婆婆" + NOT_NEAR)


def test_the_qinqing_line_says_the_platform_decides_where_the_facts_do_not(say):
    line = first_line(say("在国家医保APP上怎么把公公加到亲情账户"))
    assert line.startswith("能不能把公公加到亲情账户") and "以平台页面为准" in line


def test_no_relative_named_means_no_relation_line(say, kb):
    reply = say("家庭共济可以绑定哪些家人")
    assert reply.faq_id == "gongji-who"
    assert reply.text.startswith(kb.faq("gongji-who").answer.splitlines()[0])


def test_the_api_answer_starts_with_the_line_for_the_relative(client):
    body = client.post("/api/v1/ask", json={"text": "公公婆婆能用我的医保账户吗"}).get_json()
    assert body["answer"].startswith("公公婆婆" + NOT_NEAR)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("公公婆婆能用吗", [("公公婆婆", "不是近亲属")]),
        ("我姐夫能用吗", [("姐夫", "不是近亲属")]),  # not 我姐
        ("外孙女儿能共济吗", [("外孙女", "外孙子女")]),
        ("我妈和我妈", [("您妈", "父母")]),
        ("老公和外甥", [("老公", "配偶"), ("外甥", "不是近亲属")]),
        ("婆婆", [("婆婆", "不是近亲属")]),
        ("家庭共济怎么开通", []),
    ],
)
def test_relatives_are_found_longest_word_first_as_the_user_named_them(kb, question, expected):
    assert [(m.text, m.class_name) for m in find_relations(question, kb.relations)] == expected


def test_traditional_characters_are_found_too(kb):
    assert [m.text for m in find_relations("兒媳婦能共濟嗎", kb.relations)] == ["儿媳妇"]


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(kb_dir):
    return [str(p) for p in knowledge.check(kb_dir)[1]]


def test_a_word_in_two_classes_is_a_problem_naming_both(kb_dir):
    edit(kb_dir / "relations.yaml", "  祖父母: [祖父母,", "  祖父母: [公公, 祖父母,")
    found = [p for p in problems_of(kb_dir) if "'公公' is listed under both" in p]
    assert len(found) == 1 and "relations.yaml:" in found[0] and "'祖父母'" in found[0]


def test_an_unknown_class_or_verdict_is_a_problem_at_its_line(kb_dir):
    edit(kb_dir / "relations.yaml", "  孙子女: [孙子女,", "  孙辈们: [孙子女,")
    edit(kb_dir / "relations.yaml", "  配偶: {共济: 可以,", "  配偶: {共济: 也许,")
    problems = problems_of(kb_dir)
    assert any("relations.yaml:" in p and "class '孙辈们' is not in 'classes'" in p for p in problems)
    assert any("relations.yaml:" in p and "共济 '也许' is not one of" in p for p in problems)


def test_an_entry_that_is_not_an_faq_is_a_problem(kb_dir):
    edit(kb_dir / "relations.yaml", "  共济: [gongji-who,", "  共济: [gongji-whom, gongji-who,")
    assert any("relations.yaml:" in p and "'gongji-whom' is not an FAQ id" in p for p in problems_of(kb_dir))


def test_an_in_law_compared_as_a_parent_is_a_problem(kb_dir):
    edit(kb_dir / "synonyms.yaml", "其他亲属: [公公, ", "其他亲属: [")
    edit(kb_dir / "synonyms.yaml", "父母: [爸妈,", "父母: [公公, 爸妈,")
    found = [p for p in problems_of(kb_dir) if "'公公' (不是近亲属) is compared as '父母' (父母)" in p]
    assert len(found) == 1 and "relations.yaml:" in found[0]


def test_a_relation_template_the_file_needs_must_exist(kb_dir):
    edit(kb_dir / "replies.yaml", "relation_gongji_no:", "relation_gongji_nope:")
    assert any("reply template 'relation_gongji_no' is missing" in p for p in problems_of(kb_dir))


def test_a_relative_makes_a_question_ours(kb):
    assert kb.lexicon.synonyms["外甥"] in kb.lexicon.anchors


def test_the_relative_is_answered_for_after_the_user_picks_an_option(say):
    asked = say("我婆婆那个医保咋弄")
    assert asked.action == "clarify"
    number = next(n for n, option in enumerate(asked.options, start=1) if option.faq_id == "gongji-who")
    assert first_line(say(str(number))).startswith("婆婆" + NOT_NEAR)


def test_a_popular_question_picked_after_a_fallback_has_no_relative_line(say, kb):
    assert say("我婆婆今天穿什么衣服好看").action == "fallback"
    reply = say(str(kb.popular.index("gongji-who") + 1))  # menu.yaml lists it among the popular questions
    assert reply.faq_id == "gongji-who"
    assert first_line(reply) == kb.faq("gongji-who").answer.splitlines()[0]
