"""Split long replies into pages one WeChat text reply can carry (≤ 2000 UTF-8 bytes once XML-escaped)."""

from __future__ import annotations

from bot.knowledge.lint import MAX_REPLY_BYTES, reply_bytes


def paginate(text: str, footer: str, limit: int = MAX_REPLY_BYTES) -> list[str]:
    """Pages split on paragraph, then line, then character boundaries; every page but the last ends with `footer`."""
    if reply_bytes(text) <= limit:
        return [text]
    budget = limit - reply_bytes("\n\n" + footer)
    pages, current = [], ""
    for piece in _pieces(text, budget):
        candidate = f"{current}\n\n{piece}" if current else piece
        if reply_bytes(candidate) <= budget:
            current = candidate
        else:
            pages.append(current)
            current = piece
    pages.append(current)
    return [f"{page}\n\n{footer}" for page in pages[:-1]] + [pages[-1]]


def _pieces(text: str, budget: int) -> list[str]:
    """Paragraphs small enough for one page, breaking oversized ones into lines and then characters."""
    pieces = []
    for paragraph in (p for p in text.split("\n\n") if p.strip()):
        if reply_bytes(paragraph) <= budget:
            pieces.append(paragraph)
            continue
        for line in paragraph.split("\n"):
            pieces.extend(_cut(line, budget) if reply_bytes(line) > budget else [line])
    return pieces


def _cut(line: str, budget: int) -> list[str]:
    chunks, current = [], ""
    for char in line:
        if reply_bytes(current + char) > budget:
            chunks.append(current)
            current = ""
        current += char
    return chunks + [current] if current else chunks
