"""A broken edit never takes the service down: the last good knowledge base keeps answering."""

import time

import pytest

from bot.knowledge_source import KnowledgeSource
from bot.matching import Policy
from knowledge import KnowledgeError


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
    source = KnowledgeSource(kb_dir, Policy(), reload_seconds=0.001)
    first_kb, first_matcher = source.current()
    menu = kb_dir / "menu.yaml"
    menu.write_text(menu.read_text(encoding="utf-8").replace("  - compare-qinqing-gongji\n", ""), encoding="utf-8")
    time.sleep(0.01)

    served = source.current()  # notices the change, starts retraining, and answers with what it has
    assert served[0] is first_kb
    assert source._training is not None and source._training.is_alive()
    started = time.perf_counter()
    while source._training.is_alive():  # every question during the retraining is answered at once
        assert source.current()[1].match("家庭共济怎么开通").faq_id == "gongji-open-online"
        assert time.perf_counter() - started < 120
    source.wait_for_reload()

    kb, matcher = source.current()
    assert kb is not first_kb and matcher is not first_matcher
    assert "compare-qinqing-gongji" not in kb.popular


def test_a_broken_base_at_start_says_what_is_wrong(kb_dir):
    (kb_dir / "replies.yaml").write_text("clarify: [", encoding="utf-8")
    with pytest.raises(KnowledgeError) as error:
        KnowledgeSource(kb_dir, Policy()).current()
    assert "replies.yaml:1: YAML syntax error" in str(error.value)
