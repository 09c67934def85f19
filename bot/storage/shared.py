"""Values all workers share, each with an expiry, and leases so that one worker does a job for all of them."""

from __future__ import annotations

import secrets
import time
from typing import Protocol

from sqlite_utils import Database

from . import for_update, transaction


def get_value(db: Database, key: str, lock: bool = False) -> str | None:
    """The value stored under `key`, or None when there is none or it has expired.

    `lock` (inside a transaction): other writers of the key wait until it ends, for a read-then-write.
    """
    row = db.execute(
        f"SELECT value, expires_at FROM shared_values WHERE key = ?{for_update(db) if lock else ''}", [key]
    ).fetchone()
    if row is None or row[1] <= time.time():
        return None
    return row[0]


def set_value(db: Database, key: str, value: str, ttl: float) -> None:
    with transaction(db):
        db.execute(
            "INSERT INTO shared_values (key, value, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
            [key, value, time.time() + ttl],
        )


def delete_value(db: Database, key: str, only_if: str | None = None) -> bool:
    """Forget `key` (only while it still holds `only_if`, when given); True if something was deleted."""
    with transaction(db):
        if only_if is None:
            cursor = db.execute("DELETE FROM shared_values WHERE key = ?", [key])
        else:
            cursor = db.execute("DELETE FROM shared_values WHERE key = ? AND value = ?", [key, only_if])
    return cursor.rowcount == 1


def take_lease(db: Database, key: str, seconds: float) -> str | None:
    """A lease on `key` for `seconds`, as a token for `release`; None while another worker holds it."""
    owner, now = secrets.token_hex(8), time.time()
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO shared_values (key, value, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at "
            "WHERE shared_values.expires_at <= ?",
            [key, owner, now + seconds, now],
        )
    return owner if cursor.rowcount == 1 else None


def release_lease(db: Database, key: str, owner: str) -> None:
    delete_value(db, key, only_if=owner)


class SharedValues(Protocol):
    """Values with an expiry and leases, in the database (SqlValues) or in Redis (RedisState)."""

    def get_value(self, key: str) -> str | None: ...
    def set_value(self, key: str, value: str, ttl: float) -> None: ...
    def delete_value(self, key: str, only_if: str | None = None) -> bool: ...
    def take_lease(self, key: str, seconds: float) -> str | None: ...
    def release_lease(self, key: str, owner: str) -> None: ...


class SqlValues:
    """The shared values above on the database `db()` returns, with the methods RedisState has for them."""

    def __init__(self, db):
        self._db = db

    def get_value(self, key: str) -> str | None:
        return get_value(self._db(), key)

    def set_value(self, key: str, value: str, ttl: float) -> None:
        set_value(self._db(), key, value, ttl)

    def delete_value(self, key: str, only_if: str | None = None) -> bool:
        return delete_value(self._db(), key, only_if)

    def take_lease(self, key: str, seconds: float) -> str | None:
        return take_lease(self._db(), key, seconds)

    def release_lease(self, key: str, owner: str) -> None:
        release_lease(self._db(), key, owner)
