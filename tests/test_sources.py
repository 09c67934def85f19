"""Answers cite sources.yaml by id: lint checks the ids, and warns about old reviews and superseded sources."""

import re
from pathlib import Path

import bot.knowledge as knowledge
from app import create_app


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, fragment: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if fragment in line)


def lint(tmp_path, kb_dir, **config):
    app = create_app(
        {"TESTING": True, "DATABASE": str(tmp_path / "bot.sqlite"), "KNOWLEDGE_RELOAD_SECONDS": 0, **config}, warm=False
    )
    return app.test_cli_runner().invoke(args=["faq", "lint", str(kb_dir)])


def test_every_entry_of_the_project_cites_sources_that_exist():
    kb = knowledge.load()
    cited = {source_id for faq in kb.faqs for source_id in faq.sources}
    assert cited <= set(kb.references_by_id)
    assert all(faq.sources for faq in kb.faqs)


def test_faq_files_point_inside_the_repository():
    for path in knowledge.source_files(knowledge.DEFAULT_DIR):
        head = "".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:12])
        assert "/work/" not in head and "facts.md" not in head, path


def test_an_unknown_source_id_is_reported_at_its_line(kb_dir):
    faq = kb_dir / "faqs" / "gongji.yaml"
    edit(faq, "sources: [L4, seed-000, seed-001]", "sources: [L4, N9, seed-001]")
    _, problems = knowledge.check(kb_dir)
    line = line_of(faq, "sources: [L4, N9, seed-001]")
    assert [str(p).split(": ", 1)[0].endswith(f"gongji.yaml:{line}") for p in problems] == [True]
    assert "entry 'gongji-open-offline': source 'N9' is not in sources.yaml" in str(problems[0])


def test_a_bad_sources_file_is_reported_like_any_other(kb_dir):
    sources = kb_dir / "sources.yaml"
    edit(sources, "official: official-news\n    note: 只见条文转引", "official: maybe\n    note: 只见条文转引")
    _, problems = knowledge.check(kb_dir)
    assert any(
        re.search(r"sources\.yaml:\d+: source 'N1': official must be one of official, ", str(p)) for p in problems
    )
    with_date = kb_dir / "sources.yaml"
    edit(with_date, "date: 2024-11-26", "date: 26.11.2024")
    assert any("date must look like 2024-11-26" in str(p) for p in knowledge.check(kb_dir)[1])


def test_lint_warns_about_reviews_older_than_the_setting_but_passes(tmp_path, kb_dir):
    faq = kb_dir / "faqs" / "qinqing.yaml"
    entry_line = line_of(faq, "- id: qinqing-use")
    edit(faq, "  - id: qinqing-use\n", "  - id: qinqing-use\n")
    text = faq.read_text(encoding="utf-8")
    start = text.index("  - id: qinqing-use\n")
    end = text.index("reviewed: 2026-12-01", start)
    faq.write_text(text[:end] + "reviewed: 2020-01-01" + text[end + len("reviewed: 2026-12-01") :], encoding="utf-8")

    result = lint(tmp_path, kb_dir)
    assert result.exit_code == 0
    assert f"qinqing.yaml:{entry_line}: warning: entry 'qinqing-use' was last reviewed 2020-01-01" in result.output
    assert "(every 180 days)" in result.output
    assert "warning" not in lint(tmp_path, kb_dir, KNOWLEDGE_REVIEW_DAYS=0).output
    assert "(every 5000 days)" not in lint(tmp_path, kb_dir, KNOWLEDGE_REVIEW_DAYS=5000).output


def test_lint_flags_entries_citing_a_superseded_source(tmp_path, kb_dir):
    edit(kb_dir / "sources.yaml", "  - id: N1\n", "  - id: N1\n    superseded: true\n")
    result = lint(tmp_path, kb_dir)
    assert result.exit_code == 0
    flagged = [line for line in result.output.splitlines() if "marks superseded" in line]
    assert {re.search(r"entry '([^']+)'", line)[1] for line in flagged} == {
        faq.id for faq in knowledge.load(kb_dir).faqs if "N1" in faq.sources
    }
    assert all(": warning: " in line for line in flagged)


def test_the_api_shows_a_source_as_its_publisher_and_title(client):
    body = client.get("/api/v1/faqs/card-lending").get_json()
    assert "法治日报《国家医保局发文提醒“冒名就医”可能构成违法犯罪》2024-05-14" in body["sources"]
