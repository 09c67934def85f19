"""Replies that missed a channel's reply window: delivered exactly once, by a retry or by a message sent later.

States: `pending` (a request gave up waiting), `passive` (a retried delivery carried the reply), `sending`,
`sent`, `refused` (the platform said no, with its error code) and `failed` (it could not be reached).
A refused or failed reply stays deliverable: a retry of the same message still gets it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlite_utils import Database

from . import insertion_order, transaction

#: States from which a retried delivery may still carry the reply itself.
_PASSIVE_FROM = ("pending", "passive", "refused", "failed")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def mark_late(db: Database, key: str, channel: str, user_hash: str) -> None:
    """A request gave up waiting for this message's reply; whoever finishes the turn must deliver it."""
    with transaction(db):
        db.execute(
            "INSERT INTO late_replies (key, at, channel, user_hash, state, waiting_until, attempts) "
            "VALUES (?, ?, ?, ?, 'pending', 0, 0) ON CONFLICT(key) DO NOTHING",
            [key, _now(), channel, user_hash],
        )


def state_of(db: Database, key: str) -> str | None:
    row = db.execute("SELECT state FROM late_replies WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def wait_here(db: Database, key: str, until: float) -> None:
    """A retried delivery waits for the reply until `until`: the late sender leaves the reply to it till then."""
    with transaction(db):
        db.execute(
            "UPDATE late_replies SET waiting_until = ? WHERE key = ? AND state = 'pending' AND waiting_until < ?",
            [until, key, until],
        )


def waiting_until(db: Database, key: str) -> float:
    row = db.execute("SELECT waiting_until FROM late_replies WHERE key = ?", [key]).fetchone()
    return float(row[0] or 0) if row else 0.0


def claim_passive(db: Database, key: str) -> bool:
    """True if a reply to this request may carry the answer: never late, or late and not sent another way."""
    if state_of(db, key) is None:
        return True
    marks = ", ".join("?" for _ in _PASSIVE_FROM)
    with transaction(db):
        cursor = db.execute(
            f"UPDATE late_replies SET state = 'passive', done_at = ? WHERE key = ? AND state IN ({marks})",
            [_now(), key, *_PASSIVE_FROM],
        )
    return cursor.rowcount == 1


def claim_send(db: Database, key: str, text: str) -> bool:
    """True for the one worker that is to send the late reply; False if a retry carried it or it is sent."""
    with transaction(db):
        cursor = db.execute(
            "UPDATE late_replies SET state = 'sending', text = ? WHERE key = ? AND state = 'pending'", [text, key]
        )
    return cursor.rowcount == 1


def record_outcome(
    db: Database,
    key: str,
    state: str,
    *,
    pages: int,
    attempts: int,
    error_code: int | None = None,
    error: str | None = None,
) -> None:
    """How sending went: sent, refused (with the platform's code) or failed; the text stays for the operators."""
    with transaction(db):
        db.execute(
            "UPDATE late_replies SET state = ?, pages = ?, attempts = ?, error_code = ?, error = ?, done_at = ? "
            "WHERE key = ? AND state = 'sending'",
            [state, pages, attempts, error_code, error, _now(), key],
        )


def recent(db: Database, limit: int = 50) -> list[dict]:
    """The latest late replies with their outcome, newest first (for `flask wechat late`)."""
    return list(
        db.query(
            "SELECT at, channel, state, pages, attempts, error_code, error, user_hash, text FROM late_replies "
            f"ORDER BY at DESC, {insertion_order(db)} LIMIT ?",
            [limit],
        )
    )
