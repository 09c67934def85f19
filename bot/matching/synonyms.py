"""Variant words → one canonical word, applied to questions and FAQs alike."""

from __future__ import annotations


def canonicalize(words: list[str], synonyms: dict[str, str]) -> list[str]:
    """Each word replaced by its canonical form; words the table does not know stay as they are."""
    return [synonyms.get(word, word) for word in words]


def content_words(words: list[str], stopwords: frozenset[str]) -> list[str]:
    """Words that carry meaning: no stop words, no single Latin letters or digits, in first-seen order."""
    seen = dict.fromkeys(w for w in words if w not in stopwords and not (len(w) == 1 and w.isascii()))
    return list(seen)
