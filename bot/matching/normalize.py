"""Turn what users type into one canonical form before segmentation."""

from __future__ import annotations

import re
import unicodedata

import opencc

_TO_SIMPLIFIED = opencc.OpenCC("t2s")
# Anything that is not a letter or digit separates words: punctuation, emoji, symbols, spaces.
_SEPARATORS = re.compile(r"[\W_]+")
# Three or more of the same character (哈哈哈, 啊啊啊) say no more than two do.
_REPEATS = re.compile(r"(.)\1{2,}")
# Characters that are never content: zero-width spaces, joiners, BOM, variation selectors.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f"), None)


def normalize(text: str) -> str:
    """Half-width, simplified, lowercase, punctuation as single spaces, long repeats collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = _TO_SIMPLIFIED.convert(text).lower()
    text = _REPEATS.sub(r"\1\1", text)
    return _SEPARATORS.sub(" ", text).strip()


def strip_phrases(text: str, phrases: tuple[str, ...]) -> str:
    """Remove filler phrases (请问, 麻烦问下 …), given longest first, keeping word breaks as spaces."""
    for phrase in phrases:
        if phrase in text:
            text = text.replace(phrase, " ")
    return " ".join(text.split())
