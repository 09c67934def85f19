"""SQLite through sqlite-utils: one file, safe for several worker processes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from .migrations import migrations

#: How long a writer waits for another process's lock before giving up, in milliseconds.
BUSY_TIMEOUT_MS = 5000


class StorageError(Exception):
    """The database cannot be opened or written."""


def open_db(path: str | Path) -> Database:
    """Open (creating if needed) and migrate the database; WAL lets readers and one writer work at once."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        db = Database(connection)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.enable_wal()
        migrations.apply(db)
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    return db
