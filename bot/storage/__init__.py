"""SQLite through sqlite-utils: one file, safe for several worker processes."""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from .migrations import migrations

#: How long a writer waits for another process's lock before giving up, in milliseconds.
BUSY_TIMEOUT_MS = 5000
#: How long opening waits for other processes creating or migrating the same file (several workers start at once).
OPEN_TIMEOUT_SECONDS = 30.0


class StorageError(Exception):
    """The database cannot be opened or written; the message is SQLite's reason, without the path."""


def open_db(path: str | Path, create: bool = True) -> Database:
    """Open and migrate the database; WAL lets readers and one writer work at once.

    Several processes may open a new file at the same moment: one migrates, the others wait for it.
    The folder must exist: a folder that vanished (an unmounted volume) is an error, never a fresh empty
    database in its place; `create=False` (reconnecting) refuses a missing file the same way.
    """
    deadline = time.monotonic() + OPEN_TIMEOUT_SECONDS
    while True:
        try:
            return _open(Path(path), create)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise StorageError(str(exc)) from exc
            time.sleep(random.uniform(0.02, 0.2))
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"{type(exc).__name__}: {exc.strerror if isinstance(exc, OSError) else exc}") from exc


def _open(path: Path, create: bool) -> Database:
    uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
    connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    try:
        db = Database(connection)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if db.journal_mode != "wal":
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")  # in WAL: durable at each checkpoint, no fsync per commit
        if migrations.pending(db):
            with transaction(db):  # the first process to get the lock migrates; the others then find nothing to do
                migrations.apply(db)
    except BaseException:
        connection.close()
        raise
    return db


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


@contextmanager
def transaction(db) -> Iterator:
    """One write transaction, taking the write lock up front (BEGIN IMMEDIATE); a nested one joins the outer.

    A turn's session, records and stored reply are written together or not at all. `db` is an SQLite
    Database or a PgDatabase (bot.storage.postgres), which has its own.
    """
    if not isinstance(db, Database):
        with db.transaction():
            yield db
        return
    connection = db.conn
    if connection.in_transaction:
        yield db
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        connection.rollback()
        raise
    connection.commit()


def insertion_order(db) -> str:
    """An ORDER BY term for "newest row first" on tables without an id: SQLite's rowid, PostgreSQL's xmin."""
    return "rowid DESC" if isinstance(db, Database) else "xmin::text::bigint DESC"


def for_update(db) -> str:
    """A SELECT's suffix that locks the rows it reads until the transaction ends: PostgreSQL's FOR UPDATE.

    SQLite needs none: `transaction` took the whole database's write lock up front (BEGIN IMMEDIATE).
    """
    return "" if isinstance(db, Database) else " FOR UPDATE"


def file_identity(path: str | Path) -> tuple[int, int] | None:
    """Device and inode of the file at `path`, None if missing: tells a removed or replaced database apart."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino
