"""One test per lint rule, each on a broken copy of the knowledge directory."""

from pathlib import Path

import pytest

import bot.knowledge as knowledge


def problems_of(directory: Path) -> list[str]:
    _, problems = knowledge.check(directory)
    return [str(p) for p in problems]


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def only(problems: list[str], fragment: str) -> str:
    found = [p for p in problems if fragment in p]
    assert len(found) == 1, problems
    return found[0]


def test_the_project_knowledge_base_is_clean():
    assert problems_of(knowledge.DEFAULT_DIR) == []


def test_yaml_syntax_error_names_file_and_line(kb_dir):
    faq = kb_dir / "faqs" / "qinqing.yaml"
    edit(faq, "  - id: qinqing-use\n", "  - id: qinqing-use\n    question: [unclosed\n")
    problem = only(problems_of(kb_dir), "YAML syntax error")
    assert problem.startswith(f"{faq}:".replace(str(Path.cwd()) + "/", ""))


def test_missing_required_field(kb_dir):
    faq = kb_dir / "faqs" / "gongji.yaml"
    edit(faq, "    reviewed: 2026-12-01\n", "")
    problem = only(problems_of(kb_dir), "is missing 'reviewed'")
    assert "gongji.yaml:" in problem


def test_unknown_field_is_probably_a_typo(kb_dir):
    edit(kb_dir / "faqs" / "gongji.yaml", "    alternates:\n", "    alternate:\n")
    problems = problems_of(kb_dir)
    assert any("unknown field 'alternate'" in p for p in problems)


def test_fewer_than_six_alternates(kb_dir):
    faq = kb_dir / "faqs" / "general.yaml"
    text = faq.read_text(encoding="utf-8")
    start = text.index("    alternates:\n") + len("    alternates:\n")
    end = text.index("    answer:")
    faq.write_text(text[:start] + "      - 医保卡能借人吗\n" + text[end:], encoding="utf-8")
    assert "has 1 alternates; at least 6 are needed" in only(problems_of(kb_dir), "alternates; at least")


def test_duplicate_id(kb_dir):
    faq = kb_dir / "faqs" / "compare.yaml"
    edit(faq, "id: compare-qinqing-personal", "id: compare-qinqing-gongji")
    problem = only(problems_of(kb_dir), "is already used at")
    assert "id 'compare-qinqing-gongji' is already used at" in problem
    assert "compare.yaml:" in problem


def test_alternate_nearly_identical_to_another_entrys(kb_dir):
    faq = kb_dir / "faqs" / "gongji.yaml"
    edit(faq, "      - 共济人数有上限吗\n", "      - 家庭共济怎么开通呢\n")
    problems = problems_of(kb_dir)
    hits = [p for p in problems if "(nearly) the same as" in p]
    assert hits and all("gongji.yaml:" in p for p in hits)


def test_related_id_that_does_not_exist(kb_dir):
    edit(kb_dir / "faqs" / "general.yaml", "related: [", "related: [no-such-entry, ")
    assert "related id 'no-such-entry' does not exist" in only(problems_of(kb_dir), "no-such-entry")


def test_missing_topic_from_topics_yaml(kb_dir):
    edit(kb_dir / "topics.yaml", "- id: gongji-what-is", "- id: gongji-brand-new-topic")
    problem = only(problems_of(kb_dir), "has no FAQ entry")
    assert problem.startswith(str(kb_dir / "topics.yaml").replace(str(Path.cwd()) + "/", "") + ":")


def test_answer_too_long_for_one_wechat_reply(kb_dir):
    faq = kb_dir / "faqs" / "general.yaml"
    edit(faq, "    answer: |\n", "    answer: |\n      " + "很长的回答。" * 120 + "\n")
    problem = only(problems_of(kb_dir), "one WeChat reply carries")
    assert "bytes" in problem and "card-lending" in problem


def test_malformed_dictionary_line(kb_dir):
    path = kb_dir / "userdict.txt"
    path.write_text(path.read_text(encoding="utf-8") + "医保钱包 很多 n\n", encoding="utf-8")
    number = len(path.read_text(encoding="utf-8").splitlines())
    assert only(problems_of(kb_dir), "frequency").startswith(f"{path}:{number}:".replace(str(Path.cwd()) + "/", ""))


def test_synonym_listed_under_two_words(kb_dir):
    path = kb_dir / "synonyms.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "医保卡二号: [社保卡]\n", encoding="utf-8")
    assert "'社保卡' is listed under both" in only(problems_of(kb_dir), "listed under both")


def test_region_note_for_an_unknown_place(kb_dir):
    edit(kb_dir / "faqs" / "gongji.yaml", "      山西:", "      山西西:")
    assert "region '山西西' is not in regions.yaml" in only(problems_of(kb_dir), "山西西")


def test_template_with_a_placeholder_the_bot_does_not_fill(kb_dir):
    edit(kb_dir / "replies.yaml", "  {options}\n", "  {choices}\n")
    assert "uses {choices}" in only(problems_of(kb_dir), "{choices}")


def test_menu_button_pointing_nowhere(kb_dir):
    edit(kb_dir / "menu.yaml", "answer: gongji-open-online", "answer: gongji-opn-online")
    assert "not an FAQ id" in only(problems_of(kb_dir), "MENU_GONGJI_OPEN")


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of `path` containing `text`."""
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


FOURTH_BUTTON = "  - name: 第四个\n    key: MENU_FOURTH\n    answer: help\n"
SIXTH_SUB = "".join(f"      - name: 子{n}\n        key: MENU_SUB_{n}\n        answer: help\n" for n in range(4))


def test_menu_over_three_top_level_buttons_names_the_fourth(kb_dir):
    menu = kb_dir / "menu.yaml"
    menu.write_text(menu.read_text(encoding="utf-8") + FOURTH_BUTTON, encoding="utf-8")
    problem = only(problems_of(kb_dir), "top-level buttons")
    assert problem.startswith(
        f"{menu}:{line_of(menu, '第四个')}: the menu has 4 top-level buttons; WeChat allows at most 3"
    )


def test_menu_over_five_sub_buttons_names_the_sixth(kb_dir):
    menu = kb_dir / "menu.yaml"
    edit(menu, "      - name: 怎么开通\n", SIXTH_SUB + "      - name: 怎么开通\n")
    problem = only(problems_of(kb_dir), "sub-buttons;")
    assert problem.startswith(f"{menu}:{line_of(menu, '能给哪些家人用')}: menu button '家庭共济' has 6 sub-buttons")


@pytest.mark.parametrize(
    ("old", "new", "at", "complaint"),
    [
        ("name: 家庭共济", "name: 家庭共济呀", "家庭共济呀", "WeChat shows 4 Chinese characters of a top-level name"),
        ("name: 家庭共济", "name: 家庭共济账户", "家庭共济账户", "the name is 18 bytes; a top-level name may have 16"),
        ("name: 怎么开通", "name: 家庭共济到底怎么开通", "到底", "WeChat shows 8 Chinese characters of a sub-button"),
        ("name: 怎么开通", "name: " + "开" * 21, "开开开", "the name is 63 bytes; a sub-button name may have 60"),
        ("key: MENU_GONGJI_OPEN", "key: " + "K" * 129, "怎么开通", "the key is longer than 128 bytes"),
        ("url: /", "url: www.example.com", "在线问答", "url must start with https://"),
        ("key: MENU_GONGJI_WHO", "key: MENU_GONGJI_OPEN", "能给哪些家人用", "'MENU_GONGJI_OPEN' is already used"),
        ("        answer: gongji-who\n", "", "MENU_GONGJI_WHO", "has a key but no 'answer'"),
        ("        url: /\n", "        url: /\n        key: MENU_WEB\n        answer: help\n", "在线问答", "has both"),
        ("      - name: 在线问答\n        url: /\n", "      - name: 在线问答\n", "在线问答", "does nothing"),
    ],
)
def test_menu_buttons_wechat_would_refuse_or_cut_are_named_by_line(kb_dir, old, new, at, complaint):
    menu = kb_dir / "menu.yaml"
    edit(menu, old, new)
    assert only(problems_of(kb_dir), complaint).startswith(f"{menu}:{line_of(menu, at)}: ")
