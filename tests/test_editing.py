"""Entries changed through bot.knowledge.editing diff like entries changed by hand."""

import difflib
from pathlib import Path

import pytest

import bot.knowledge as knowledge
from bot.knowledge import editing


def hunks(before: str, after: str) -> list[str]:
    """The `@@` lines of a unified diff: one per separate change."""
    diff = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), n=3)
    return [line for line in diff if line.startswith("@@")]


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.parametrize("name", [p.name for p in knowledge.faq_files(knowledge.DEFAULT_DIR)])
def test_an_unchanged_file_is_written_back_byte_for_byte(kb_dir, name):
    path = kb_dir / "faqs" / name
    before = path.read_bytes()
    editing.write_document(path, editing.read_document(path))
    assert path.read_bytes() == before


def test_writing_an_entry_back_unchanged_leaves_its_file_alone(kb_dir):
    entry = editing.read_entry(kb_dir, "gongji-who")
    before = entry.file.read_bytes()
    editing.update_entry(
        kb_dir,
        "gongji-who",
        question=entry.question,
        alternates=entry.alternates,
        answer=entry.answer,
        related=entry.related,
        regions=entry.regions,
        sources=entry.sources,
        reviewed=entry.reviewed,
    )
    assert entry.file.read_bytes() == before


def test_changing_one_field_is_one_hunk_that_touches_only_that_field(kb_dir):
    entry = editing.read_entry(kb_dir, "gongji-limits")
    before = entry.file.read_text(encoding="utf-8")
    editing.update_entry(kb_dir, "gongji-limits", reviewed="2026-12-24")
    after = entry.file.read_text(encoding="utf-8")
    assert len(hunks(before, after)) == 1
    assert changed_lines(before, after) == [f"-    reviewed: {entry.reviewed}", "+    reviewed: 2026-12-24"]
    assert knowledge.load(kb_dir).faq("gongji-limits").reviewed == "2026-12-24"


def test_a_new_answer_stays_a_literal_block_and_loads(kb_dir):
    entry = editing.read_entry(kb_dir, "qinqing-use")
    new_answer = entry.answer + "\n4. 出示时请确认是家人本人的医保码。"
    before = entry.file.read_text(encoding="utf-8")
    editing.update_entry(kb_dir, "qinqing-use", answer=new_answer)
    after = entry.file.read_text(encoding="utf-8")
    assert changed_lines(before, after) == ["+      4. 出示时请确认是家人本人的医保码。"]
    assert knowledge.load(kb_dir).faq("qinqing-use").answer == new_answer


def test_removing_one_alternate_removes_only_its_line(kb_dir):
    entry = editing.read_entry(kb_dir, "gongji-who")
    gone = entry.alternates[3]
    before = entry.file.read_text(encoding="utf-8")
    editing.update_entry(kb_dir, "gongji-who", alternates=[a for a in entry.alternates if a != gone])
    assert changed_lines(before, entry.file.read_text(encoding="utf-8")) == [f"-      - {gone}"]


def test_regional_notes_change_in_place_and_new_ones_come_last(kb_dir):
    entry = editing.read_entry(kb_dir, "gongji-who")
    first = next(iter(entry.regions))
    notes = {**entry.regions, first: f"{first}：改过的提示。", "北京": "北京：新的提示。"}
    editing.update_entry(kb_dir, "gongji-who", regions=notes)
    loaded = knowledge.load(kb_dir).faq("gongji-who").regions
    assert list(loaded) == list(notes)
    assert loaded[first] == f"{first}：改过的提示。"


def test_add_alternate_appends_once_and_the_matcher_files_load(kb_dir):
    path = editing.add_alternate(kb_dir, "card-lending", "医保卡借给我哥用行吗")
    text = path.read_text(encoding="utf-8")
    editing.add_alternate(kb_dir, "card-lending", "医保卡借给我哥用行吗")
    assert path.read_text(encoding="utf-8") == text
    alternates = [q.text for q in knowledge.load(kb_dir).faq("card-lending").alternates]
    assert alternates[-1] == "医保卡借给我哥用行吗"


def test_add_entry_writes_a_new_entry_that_loads_and_lints(kb_dir):
    existing = editing.read_entry(kb_dir, "card-lending")
    editing.add_entry(
        kb_dir,
        "general.yaml",
        {
            "id": "card-lost-abroad",
            "question": "在国外能用医保电子凭证吗？",
            "alternates": [
                "出国了医保码还能用吗",
                "国外看病能刷医保码吗",
                "在国外医保卡能用不",
                "出境后医保凭证有用吗",
                "国外买药能用医保吗",
                "在国外怎么用医保码",
            ],
            "answer": "不能。医保电子凭证只能在国内定点医药机构使用。\n具体以参保地医保部门规定为准。",
            "related": ["card-lending"],
            "sources": existing.sources,
            "reviewed": "2026-12-01",
        },
    )
    kb, problems = knowledge.check(kb_dir)
    assert problems == []
    assert kb.faq("card-lost-abroad").answer.startswith("不能。")
    assert editing.read_entry(kb_dir, "card-lost-abroad").related == ("card-lending",)


def test_add_entry_refuses_an_id_already_used(kb_dir):
    with pytest.raises(editing.EditError, match="already used"):
        editing.add_entry(kb_dir, "general.yaml", {"id": "gongji-who", "question": "x", "answer": "y"})


def test_unknown_entry_and_unknown_field_are_edit_errors(kb_dir):
    with pytest.raises(editing.EditError, match="no FAQ entry"):
        editing.read_entry(kb_dir, "no-such-entry")
    with pytest.raises(editing.EditError, match="cannot edit"):
        editing.update_entry(kb_dir, "gongji-who", id="renamed")


def test_list_entries_names_every_entry_the_loader_sees(kb_dir):
    ids = [e.id for e in editing.list_entries(kb_dir)]
    assert ids == [f.id for f in knowledge.load(kb_dir).faqs]
    assert all(isinstance(e.file, Path) for e in editing.list_entries(kb_dir))
