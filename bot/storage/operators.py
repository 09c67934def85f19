"""The operators' console: accounts with a lock-out counter, the audit log, questions marked out of scope."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlite_utils import Database

from . import transaction

ROLES = ("editor", "publisher")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def save_operator(db: Database, name: str, password_hash: str, role: str) -> bool:
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


def find_operator(db: Database, name: str) -> dict | None:
    """The account's row (name, password_hash, role, failed_logins, locked_until), or None."""
    rows = list(db.query("SELECT * FROM operators WHERE name = ?", [name]))
    return rows[0] if rows else None


def count_failed_login(db: Database, name: str, attempts: int, lockout_seconds: float) -> bool:
    """One more wrong password; the account locks for `lockout_seconds` at the `attempts`-th. True if now locked."""
    with transaction(db):
        db.execute("UPDATE operators SET failed_logins = failed_logins + 1 WHERE name = ?", [name])
        db.execute(
            "UPDATE operators SET locked_until = ?, failed_logins = 0 WHERE name = ? AND failed_logins >= ?",
            [time.time() + lockout_seconds, name, attempts],
        )
        row = db.execute("SELECT locked_until FROM operators WHERE name = ?", [name]).fetchone()
    return bool(row) and row[0] > time.time()


def clear_failed_logins(db: Database, name: str) -> None:
    """A right password ends the count of wrong ones."""
    with transaction(db):
        db.execute("UPDATE operators SET failed_logins = 0, locked_until = 0 WHERE name = ?", [name])


def audit(db: Database, operator: str, action: str, target: str = "", detail: str = "") -> None:
    """Who did what, when: one row per change made through the console or its commands."""
    with transaction(db):
        db["audit_log"].insert(
            {"at": _now(), "operator": operator, "action": action, "target": target, "detail": detail}
        )


def audit_entries(db: Database, limit: int = 200) -> list[dict]:
    """The latest changes first."""
    return list(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit]))


def dismiss_questions(db: Database, questions: list[str], operator: str) -> None:
    """Mark unanswered questions out of scope: they leave the list of what to add."""
    with transaction(db):
        for question in questions:
            db.execute(
                "INSERT INTO dismissed_questions (question, at, operator) VALUES (?, ?, ?) "
                "ON CONFLICT(question) DO NOTHING",
                [question, _now(), operator],
            )


def dismissed_questions(db: Database) -> set[str]:
    return {row[0] for row in db.execute("SELECT question FROM dismissed_questions").fetchall()}
