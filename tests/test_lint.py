"""One test per lint rule, each on a broken copy of the knowledge directory."""

from pathlib import Path

import knowledge


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
    edit(kb_dir / "menu.yaml", "MENU_GONGJI_OPEN: gongji-open-online", "MENU_GONGJI_OPEN: gongji-opn-online")
    assert "not an FAQ id" in only(problems_of(kb_dir), "MENU_GONGJI_OPEN")


def test_numbers_in_word_lists_must_be_quoted(kb_dir):
    edit(kb_dir / "smalltalk.yaml", '厉害, "666"]', "厉害, 666]")
    assert "is a number; put it in quotes" in only(problems_of(kb_dir), "666")


def test_a_missing_file_is_named(kb_dir):
    (kb_dir / "stopwords.txt").unlink()
    assert only(problems_of(kb_dir), "stopwords.txt").endswith("file is missing")


def test_non_utf8_file(kb_dir):
    (kb_dir / "fillers.txt").write_bytes("请问\n".encode("gbk"))
    assert "not UTF-8" in only(problems_of(kb_dir), "fillers.txt")


def test_a_command_word_in_two_commands(kb_dir):
    edit(kb_dir / "commands.yaml", "unhelpful: [没用,", "unhelpful: [有用, 没用,")
    assert "'有用' is a command word of both 'helpful' and 'unhelpful'" in only(problems_of(kb_dir), "command word")
