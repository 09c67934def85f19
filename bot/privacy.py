"""Keep personal data out of records and logs: salted user hashes, masked numbers."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

#: A digit in any width: `\d` is every Unicode decimal digit, full-width ones included.
_DIGIT = r"\d"
#: What people put between the digits of one number: spaces (any width), dots, dashes, commas, slashes.
_SEPARATOR = r"[\s.．·・\-－‐‑–—_/,，、]"
#: A run of digits with at most three separator characters between two of them, an optional ID check letter,
#: an optional leading + (for +86).
_RUN = re.compile(
    rf"(?:[+＋]{_SEPARATOR}{{0,3}})?{_DIGIT}(?:{_SEPARATOR}{{0,3}}{_DIGIT})*(?:{_SEPARATOR}{{0,3}}[XxＸｘ])?"
)
#: Runs with fewer digits are amounts, dates, counts: left alone.
_SHORTEST_PERSONAL = 11


def user_hash(salt: str, channel: str, user_id: str) -> str:
    """A stable pseudonym for one user of one channel; without the salt it cannot be traced back."""
    digest = hmac.new(salt.encode(), f"{channel}:{user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


def mask(text: str) -> str:
    """The text with phone, ID, bank-card and any other 11+ digit numbers replaced, in any width or spacing.

    The one place personal numbers are found: everything stored for operators goes through it.
    """
    return _RUN.sub(_replacement, text)


def _replacement(run: re.Match) -> str:
    found = run.group()
    digits = "".join(str(unicodedata.digit(c)) for c in found if unicodedata.category(c) == "Nd")
    check_letter = found.rstrip()[-1:] in "XxＸｘ"
    if len(digits) < _SHORTEST_PERSONAL and not check_letter:
        return found
    if check_letter and len(digits) in (14, 17):
        return "[id-number]"
    if check_letter:
        return "[number]"
    if len(digits) == 11 and digits[0] == "1" or len(digits) == 13 and digits.startswith("861"):
        return "[phone]"
    if len(digits) in (15, 18):
        return "[id-number]"
    if 16 <= len(digits) <= 19:
        return "[bank-card]"
    return "[number]"
