"""A broken edit never takes the service down: the last good knowledge base keeps answering."""

import time

import pytest

from bot.knowledge import KnowledgeError
from bot.knowledge_source import KnowledgeSource
from bot.matching import Policy


def test_broken_edit_is_rejected_and_the_last_good_base_keeps_serving(kb_dir):
    source = KnowledgeSource(kb_dir, Policy())
    kb, matcher = source.current()
    faq = kb_dir / "faqs" / "gongji.yaml"
    faq.write_text(faq.read_text(encoding="utf-8") + "\n  - id: [broken\n", encoding="utf-8")

    problems = source.reload()

    assert [p.file.split("/")[-1] for p in problems] == ["gongji.yaml"]
    assert source.current()[0] is kb
    assert source.current()[1].match("家庭共济怎么开通").faq_id == "gongji-open-online"


def test_a_good_edit_is_picked_up(kb_dir):
    source = KnowledgeSource(kb_dir, Policy())
    source.current()
    faq = kb_dir / "faqs" / "general.yaml"
    faq.write_text(
        faq.read_text(encoding="utf-8").replace("医保卡能借给家人用吗？能用", "医保卡能不能借给家里人用？能用"),
        encoding="utf-8",
    )

    assert source.reload() == []
    assert source.current()[0].faq("card-lending").title.startswith("医保卡能不能借给家里人用？")


def test_changed_files_are_retrained_in_the_background_while_answering_continues(kb_dir):
    source = KnowledgeSource(kb_dir, Policy(), reload_seconds=0.001, settle_seconds=0)
    first_kb, first_matcher = source.current()
    menu = kb_dir / "menu.yaml"
    menu.write_text(menu.read_text(encoding="utf-8").replace("  - compare-qinqing-gongji\n", ""), encoding="utf-8")
    faq = kb_dir / "faqs" / "general.yaml"  # a new alternate: the matcher must be trained again
    alternate = "      - 医保卡能借给我妈用吗\n"
    text = faq.read_text(encoding="utf-8")
    faq.write_text(text.replace(alternate, alternate + "      - 医保卡借给老丈人用行不行\n"), encoding="utf-8")
    time.sleep(0.01)

    served = source.current()  # notices the change, starts retraining, and answers with what it has
    assert served[0] is first_kb
    assert source._training is not None and source._training.is_alive()
    while source._training.is_alive():  # every question during the retraining is answered at once
        assert source.current()[1].match("家庭共济怎么开通").faq_id == "gongji-open-online"
        time.sleep(0.05)
    source.wait_for_reload()

    kb, matcher = source.current()
    assert kb is not first_kb and matcher.model is not first_matcher.model
    assert "compare-qinqing-gongji" not in kb.popular


def test_an_edit_of_answers_alone_is_served_without_training_again(kb_dir):
    """Rewording an answer, the most common edit, changes nothing the matcher learns from: it is live at once."""
    source = KnowledgeSource(kb_dir, Policy())
    _, first_matcher = source.current()
    faq = kb_dir / "faqs" / "general.yaml"
    text = faq.read_text(encoding="utf-8")
    reworded = text.replace("不能。医保卡和医保码只能本人使用", "不能，医保卡和医保码都只能本人使用")
    faq.write_text(reworded, encoding="utf-8")

    assert source.reload() == []
    kb, matcher = source.current()
    assert kb.faq("card-lending").answer.startswith("不能，医保卡和医保码都只能本人使用")
    assert matcher.model is first_matcher.model
    assert matcher.match("医保卡能借给家人用吗").faq_id == "card-lending"


def test_a_broken_base_at_start_says_what_is_wrong(kb_dir):
    (kb_dir / "replies.yaml").write_text("clarify: [", encoding="utf-8")
    with pytest.raises(KnowledgeError) as error:
        KnowledgeSource(kb_dir, Policy()).current()
    assert "replies.yaml:1: YAML syntax error" in str(error.value)


def editors_leftovers(kb_dir):
    """What vim, emacs, VS Code and a half-finished `mkdir` leave in the folder while someone edits."""
    faqs = kb_dir / "faqs"
    (faqs / "x.yaml").mkdir()
    for name in (".gongji.yaml.swp", "gongji.yaml~", "4913", ".gongji.yaml", "gongji.yaml.tmp", "#gongji.yaml#"):
        (faqs / name).write_text("faqs: [broken", encoding="utf-8")
    (kb_dir / ".replies.yaml.swp").write_text("\0\0", encoding="utf-8")
    (faqs / ".#qinqing.yaml").symlink_to("root@host.1234")  # emacs' lock file: a dangling link


def test_editors_temporary_files_and_folders_are_not_faq_files(kb, kb_dir):
    editors_leftovers(kb_dir)
    assert len(KnowledgeSource(kb_dir, Policy()).current()[0].faqs) == len(kb.faqs)


def test_editors_temporary_files_trigger_no_reload(kb_dir):
    source = KnowledgeSource(kb_dir, Policy(), reload_seconds=0.001, settle_seconds=0)
    first = source.current()[0]
    editors_leftovers(kb_dir)
    time.sleep(0.01)
    source.current()
    source.wait_for_reload()  # had one started, it would be over now
    assert source.current()[0] is first and source.last_problems == []


def test_a_file_being_written_is_read_only_once_it_has_settled(kb_dir):
    source = KnowledgeSource(kb_dir, Policy(), reload_seconds=0.001, settle_seconds=0.5)
    first = source.current()[0]
    faq = kb_dir / "faqs" / "general.yaml"
    whole = faq.read_text(encoding="utf-8")
    faq.write_text(whole[: len(whole) // 2], encoding="utf-8")  # the editor has written half of it so far
    time.sleep(0.01)
    assert source.current()[0] is first and source._training is None  # not even tried
    faq.write_text(whole.replace("医保卡能借给家人用吗？能用", "医保卡能不能借给家里人用？能用"), encoding="utf-8")
    time.sleep(0.6)
    source.current()  # settled: retrained in the background
    source.wait_for_reload()
    assert source.current()[0].faq("card-lending").title.startswith("医保卡能不能借给家里人用？")
    assert source.last_problems == []
