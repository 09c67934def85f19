"""The operators' console: accounts with a lock-out counter, the audit log, questions marked out of scope.

Portable SQL on the records database: SQLite on one machine, PostgreSQL (bot.storage.postgres) for several hosts,
so an account made on one host logs in on every other and they share one audit log.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from . import transaction

ROLES = ("editor", "publisher")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def save_operator(db, name: str, password_hash: str, role: str) -> bool:
    """Create the account, or give an existing one a new password and role; True if it is new."""
    with transaction(db):
        new = db.execute("SELECT 1 FROM operators WHERE name = ?", [name]).fetchone() is None
        db.execute(
            "INSERT INTO operators (name, password_hash, role, created_at, failed_logins, locked_until) "
            "VALUES (?, ?, ?, ?, 0, 0) ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash, "
            "role = excluded.role, failed_logins = 0, locked_until = 0",
            [name, password_hash, role, _now()],
        )
    return new


def find_operator(db, name: str) -> dict | None:
    """The account's row (name, password_hash, role, failed_logins, locked_until), or None."""
    rows = list(db.query("SELECT * FROM operators WHERE name = ?", [name]))
    return rows[0] if rows else None


def count_failed_login(db, name: str, attempts: int, lockout_seconds: float) -> bool:
    """One more wrong password; the account locks for `lockout_seconds` at the `attempts`-th. True if now locked.

    One UPDATE … RETURNING: wrong passwords sent at once from several hosts each count, none is lost.
    """
    now = time.time()
    with transaction(db):
        rows = db.execute(  # every row read before COMMIT: SQLite keeps an unfinished statement open
            "UPDATE operators SET "
            "locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END, "
            "failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END "
            "WHERE name = ? RETURNING locked_until",
            [attempts, now + lockout_seconds, attempts, name],
        ).fetchall()
    return bool(rows) and rows[0][0] > now


def clear_failed_logins(db, name: str) -> None:
    """A right password ends the count of wrong ones."""
    with transaction(db):
        db.execute("UPDATE operators SET failed_logins = 0, locked_until = 0 WHERE name = ?", [name])


def audit(db, operator: str, action: str, target: str = "", detail: str = "") -> None:
    """Who did what, when: one row per change made through the console or its commands."""
    with transaction(db):
        db.execute(
            "INSERT INTO audit_log (at, operator, action, target, detail) VALUES (?, ?, ?, ?, ?)",
            [_now(), operator, action, target, detail],
        )


def audit_entries(db, limit: int = 200) -> list[dict]:
    """The latest changes first."""
    return list(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit]))


def dismiss_questions(db, questions: list[str], operator: str) -> None:
    """Mark unanswered questions out of scope: they leave the list of what to add."""
    with transaction(db):
        for question in questions:
            db.execute(
                "INSERT INTO dismissed_questions (question, at, operator) VALUES (?, ?, ?) "
                "ON CONFLICT(question) DO NOTHING",
                [question, _now(), operator],
            )


def dismissed_questions(db) -> set[str]:
    return {row[0] for row in db.execute("SELECT question FROM dismissed_questions").fetchall()}
