"""The pinyin channel: read homophone typos (共计, 公积, 亲请, 帮定) as the domain word they sound like."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin

#: Longest domain word the channel looks for, in characters.
MAX_TERM_LENGTH = 6


def syllables(text: str) -> tuple[str, ...]:
    """Toneless pinyin, one syllable per character: a homophone typo swaps one character for another."""
    return tuple(_syllable(char) for char in text)


@lru_cache(maxsize=16384)
def _syllable(char: str) -> str:
    """The character's most common reading without tone; anything not Chinese stays as it is."""
    return lazy_pinyin(char, style=Style.NORMAL, errors=lambda chars: list(chars))[0]


class HomophoneReader:
    """Rewrites runs of whole words whose pinyin equals a domain word's; the caller scores this as a second view."""

    def __init__(self, terms: set[str]):
        self._terms: dict[tuple[str, ...], str] = {}
        for term in sorted(terms, key=len, reverse=True):
            if 2 <= len(term) <= MAX_TERM_LENGTH and all("\u4e00" <= ch <= "\u9fff" for ch in term):
                self._terms.setdefault(syllables(term), term)

    def read(self, words: list[str]) -> list[str] | None:
        """Words with homophone runs replaced by the domain word, or None when nothing sounded like one.

        Only runs aligned with word boundaries are replaced, so 公积金 (a word of its own) is never read as 共济.
        """
        sounds = [syllables(word) for word in words]
        result, changed, i = [], False, 0
        while i < len(words):
            replacement = self._match_at(words, sounds, i)
            if replacement is None:
                result.append(words[i])
                i += 1
                continue
            term, width = replacement
            changed = changed or "".join(words[i : i + width]) != term
            result.append(term)
            i += width
        return result if changed else None

    def _match_at(self, words, sounds, start):
        joined: tuple[str, ...] = ()
        best = None
        for end in range(start, min(len(words), start + MAX_TERM_LENGTH)):
            joined += sounds[end]
            if len(joined) > MAX_TERM_LENGTH:
                break
            term = self._terms.get(joined)
            if term is not None:
                best = (term, end - start + 1)
        return best
