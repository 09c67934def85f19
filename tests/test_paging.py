from bot.knowledge.lint import reply_bytes
from bot.paging import paginate


def test_short_text_is_one_page():
    assert paginate("一句话", "回复“更多”查看后续") == ["一句话"]


def test_long_text_splits_on_paragraphs_within_the_byte_limit():
    text = "\n\n".join(f"第{i}段：" + "家庭共济的说明<&>]]>" * 20 for i in range(12))
    pages = paginate(text, "回复“更多”查看后续")
    assert len(pages) > 1
    assert all(reply_bytes(page) <= 2000 for page in pages)
    assert all(page.endswith("回复“更多”查看后续") for page in pages[:-1])
    assert not pages[-1].endswith("回复“更多”查看后续")
    joined = "".join(page.removesuffix("\n\n回复“更多”查看后续") for page in pages)
    assert joined.replace("\n", "") == text.replace("\n", "")


def test_a_single_huge_line_is_cut_by_characters():
    pages = paginate("字" * 3000, "更多")
    assert all(reply_bytes(page) <= 2000 for page in pages)
    assert sum(page.count("字") for page in pages) == 3000
