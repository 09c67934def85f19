"""The pinyin channel: read voice-input homophones (共计, 张虎, 平整, 帮定) as the domain word they sound like.

Exact toneless pinyin first; then a looser reading that forgives what speech recognition and regional
accents blur (zh/z, ch/c, sh/s, n/l, f/h, -ng/-n, ü/i after j q x), so 情情 finds 亲情 and 工具 finds 共济
without a table of misspellings.
"""

from __future__ import annotations

from functools import lru_cache

#: Longest domain word the channel looks for, in characters.
MAX_TERM_LENGTH = 6


@lru_cache(maxsize=65536)
def syllables(text: str) -> tuple[str, ...]:
    """Toneless pinyin, one syllable per character, read as a phrase (供给 is gong ji, not gong gei);
    anything not Chinese stays as it is, one item per character."""
    from pypinyin import Style, lazy_pinyin  # imported at the first reading: 0.25 s no flask command needs

    return tuple(lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: list(chars)))


def loose(sounds: tuple[str, ...]) -> tuple[str, ...]:
    """Syllables with the distinctions accents and recognisers blur folded together."""
    return tuple(_loose(s) for s in sounds)


@lru_cache(maxsize=65536)
def _loose_syllables(word: str) -> tuple[str, ...]:
    return loose(syllables(word))


@lru_cache(maxsize=4096)
def _loose(syllable: str) -> str:
    for retroflex in ("zh", "ch", "sh"):
        if syllable.startswith(retroflex):
            syllable = retroflex[0] + syllable[2:]
    if syllable[:1] in ("n", "f") and len(syllable) > 1:
        syllable = {"n": "l", "f": "h"}[syllable[0]] + syllable[1:]
    if syllable.endswith(("ing", "eng", "ang")):
        syllable = syllable[:-1]
    if syllable[:1] in ("j", "q", "x") and syllable[1:2] == "u":
        syllable = syllable[0] + "i" + syllable[2:]
    return syllable


class HomophoneReader:
    """Rewrites runs of whole words whose pinyin equals a domain word's; the caller scores this as a second view."""

    def __init__(self, terms: set[str]):
        self._terms: dict[tuple[str, ...], str] = {}
        self._loose_terms: dict[tuple[str, ...], str] = {}
        for term in sorted(terms, key=lambda t: (-len(t), t)):
            if 2 <= len(term) <= MAX_TERM_LENGTH and all("\u4e00" <= ch <= "\u9fff" for ch in term):
                self._terms.setdefault(syllables(term), term)
                self._loose_terms.setdefault(_loose_syllables(term), term)
        # Where no term's loose pinyin starts with what was heard so far, looking further cannot find one
        # (a term's exact pinyin, loosened, is among them).
        self._beginnings = {sounds[:n] for sounds in self._loose_terms for n in range(1, len(sounds) + 1)}

    def read(self, words: list[str]) -> list[str] | None:
        """Words with homophone runs replaced by the domain word, or None when nothing sounded like one.

        Only runs aligned with word boundaries are replaced, so 公积金 (a word of its own) is never read as 共济.
        """
        sounds = [syllables(word) for word in words]
        blurred = [_loose_syllables(word) for word in words]
        result, changed, i = [], False, 0
        while i < len(words):
            replacement = self._match_at(words, sounds, blurred, i)
            if replacement is None:
                result.append(words[i])
                i += 1
                continue
            term, width = replacement
            changed = changed or "".join(words[i : i + width]) != term
            result.append(term)
            i += width
        return result if changed else None

    def _match_at(self, words, sounds, blurred, start):
        joined: tuple[str, ...] = ()
        joined_loosely: tuple[str, ...] = ()
        best = None
        for end in range(start, min(len(words), start + MAX_TERM_LENGTH)):
            joined += sounds[end]
            joined_loosely += blurred[end]
            if len(joined) > MAX_TERM_LENGTH:
                break
            if joined_loosely not in self._beginnings:
                break
            term = self._terms.get(joined) or self._loose_terms.get(joined_loosely)
            if term is not None:
                best = (term, end - start + 1)
        return best
