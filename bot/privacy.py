"""Keep personal data out of records and logs: salted user hashes, masked numbers."""

from __future__ import annotations

import hashlib
import hmac
import re

# 18-digit resident ID (last may be X), 11-digit mobile, 16–19-digit bank card; digits may be spaced or dashed.
_ID_CARD = re.compile(r"(?<!\d)\d{6}[\s-]?\d{8}[\s-]?\d{3}[\dXx](?![\dXx])")
_BANK_CARD = re.compile(r"(?<!\d)\d{4}(?:[\s-]?\d{4}){2}[\s-]?\d{4,7}(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")


def user_hash(salt: str, channel: str, user_id: str) -> str:
    """A stable pseudonym for one user of one channel; without the salt it cannot be traced back."""
    digest = hmac.new(salt.encode(), f"{channel}:{user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


def mask(text: str) -> str:
    """The text with ID, bank-card and mobile numbers replaced, before it is stored for operators."""
    text = _ID_CARD.sub("[id-number]", text)
    text = _BANK_CARD.sub("[bank-card]", text)
    return _MOBILE.sub("[phone]", text)
