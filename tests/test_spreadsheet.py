"""`faq export` / `faq import`: the policy team's spreadsheet round trip."""

import csv

import pytest
from openpyxl import load_workbook

import bot.knowledge as knowledge
from bot.knowledge import spreadsheet


def snapshot(directory):
    return {p.relative_to(directory): p.read_bytes() for p in knowledge.source_files(directory)}


def run(runner, *args):
    return runner.invoke(args=["faq", *args])


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_importing_an_unchanged_export_changes_no_byte(runner, kb_dir, tmp_path, kind):
    sheet = tmp_path / f"faqs.{kind}"
    exported = run(runner, "export", f"--{kind}", str(sheet), "--knowledge", str(kb_dir))
    assert exported.exit_code == 0, exported.output
    before = snapshot(kb_dir)
    result = run(runner, "import", str(sheet), "--write", "--knowledge", str(kb_dir))
    assert result.exit_code == 0, result.output
    assert "no changes" in result.output
    assert snapshot(kb_dir) == before


def test_export_has_one_row_per_entry_with_id_and_answer(runner, kb_dir, tmp_path):
    sheet = tmp_path / "faqs.xlsx"
    run(runner, "export", "--xlsx", str(sheet), "--knowledge", str(kb_dir))
    rows = list(load_workbook(sheet).active.iter_rows(values_only=True))
    header = rows[0]
    assert "id" in header and "answer" in header
    kb = knowledge.load(kb_dir)
    by_id = {row[header.index("id")]: row for row in rows[1:]}
    assert list(by_id) == [faq.id for faq in kb.faqs]
    assert by_id["card-lending"][header.index("answer")] == kb.faq("card-lending").answer


def test_an_edited_answer_shows_as_a_diff_and_is_written_only_with_write(runner, kb_dir, tmp_path):
    sheet = tmp_path / "faqs.csv"
    run(runner, "export", "--csv", str(sheet), "--knowledge", str(kb_dir))
    with sheet.open(encoding="utf-8-sig", newline="") as exported:
        rows = list(csv.DictReader(exported))
    row = next(r for r in rows if r["id"] == "qinqing-limits")
    row["answer"] += "\n3. 新增的一行说明。"
    with sheet.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    before = snapshot(kb_dir)

    dry = run(runner, "import", str(sheet), "--knowledge", str(kb_dir))
    assert dry.exit_code == 0, dry.output
    assert "+      3. 新增的一行说明。" in dry.output
    assert "add --write" in dry.output
    assert snapshot(kb_dir) == before

    wet = run(runner, "import", str(sheet), "--write", "--knowledge", str(kb_dir))
    assert wet.exit_code == 0, wet.output
    assert knowledge.load(kb_dir).faq("qinqing-limits").answer.endswith("3. 新增的一行说明。")
    changed = [p for p, data in snapshot(kb_dir).items() if before[p] != data]
    assert [str(p) for p in changed] == ["faqs/qinqing.yaml"]


def test_an_import_that_breaks_lint_writes_nothing_and_names_the_problem(runner, kb_dir, tmp_path):
    rows = spreadsheet.export_rows(kb_dir)
    next(r for r in rows if r["id"] == "gongji-who")["sources"] = "N2, N99"
    sheet = tmp_path / "faqs.xlsx"
    spreadsheet.write_xlsx(rows, sheet)
    before = snapshot(kb_dir)
    result = run(runner, "import", str(sheet), "--write", "--knowledge", str(kb_dir))
    assert result.exit_code == 1
    assert "gongji.yaml:" in result.output and "source 'N99' is not in sources.yaml" in result.output
    assert snapshot(kb_dir) == before


def test_a_new_row_becomes_a_new_entry_in_its_file(kb_dir, tmp_path):
    rows = spreadsheet.export_rows(kb_dir)
    template = next(r for r in rows if r["id"] == "card-lending")
    rows.append(
        {
            **template,
            "id": "card-abroad",
            "question": "在国外能用医保码吗？",
            "alternates": "\n".join(
                [
                    "出国了医保码还能用吗",
                    "国外看病能刷医保码吗",
                    "在国外医保卡能用不",
                    "出境后医保凭证有用吗",
                    "国外买药能用医保吗",
                    "在国外怎么用医保码",
                ]
            ),
            "answer": "不能。医保电子凭证只在国内定点医药机构使用。",
            "related": "card-lending",
        }
    )
    spreadsheet.write_csv(rows, tmp_path / "new.csv")
    result = spreadsheet.import_rows(kb_dir, spreadsheet.read_rows(tmp_path / "new.csv"), write=True)
    assert result.problems == [] and result.written
    assert knowledge.load(kb_dir).faq("card-abroad").category == "通用"


def test_a_sheet_that_is_not_ours_is_a_clear_error(runner, kb_dir, tmp_path):
    sheet = tmp_path / "other.csv"
    sheet.write_text("name,phone\nx,1\n", encoding="utf-8")
    result = run(runner, "import", str(sheet), "--knowledge", str(kb_dir))
    assert result.exit_code == 1
    assert "unknown column(s) name, phone" in result.output
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    result = run(runner, "import", str(broken), "--knowledge", str(kb_dir))
    assert result.exit_code == 1 and "is not an Excel workbook" in result.output
