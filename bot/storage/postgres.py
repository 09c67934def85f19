"""PostgreSQL through psycopg's connection pool: the records and console accounts of every host, as SQLite answers.

The storage modules write portable SQL with `?` placeholders; `execute`, `query` and `atomic` behave as
sqlite-utils' do, so records, late replies and shared values run unchanged on either engine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from . import StorageError

#: How long a request waits for a pooled connection (PostgreSQL down: the pool keeps trying meanwhile).
POOL_WAIT_SECONDS = 1.0
#: A pooled connection idle longer than this is checked before use, in seconds.
IDLE_CHECK_SECONDS = 2.0
#: After PostgreSQL could not be reached, requests fail at once for this long instead of each waiting.
DOWN_PAUSE_SECONDS = 1.0
#: Connections one process keeps at most; gthread workers have 8 threads each.
POOL_SIZE = 10
#: Any number, the same in every process: the lock that lets one of them migrate at a time.
MIGRATION_LOCK = 7_310_000_010

#: The schema, one named step per change, applied in order once each (recorded in `_migrations`).
MIGRATIONS = (
    (
        "create_records",
        """
        CREATE TABLE IF NOT EXISTS turns (id BIGSERIAL PRIMARY KEY, at TEXT, channel TEXT, user_hash TEXT,
            question TEXT, action TEXT, faq_id TEXT, score DOUBLE PRECISION, region TEXT,
            latency_ms DOUBLE PRECISION);
        CREATE INDEX IF NOT EXISTS idx_turns_at ON turns (at);
        CREATE INDEX IF NOT EXISTS idx_turns_faq_id ON turns (faq_id);
        CREATE TABLE IF NOT EXISTS unanswered (id BIGSERIAL PRIMARY KEY, at TEXT, channel TEXT, user_hash TEXT,
            question TEXT, score DOUBLE PRECISION, best_faq_id TEXT);
        CREATE INDEX IF NOT EXISTS idx_unanswered_at ON unanswered (at);
        CREATE TABLE IF NOT EXISTS feedback (id BIGSERIAL PRIMARY KEY, at TEXT, channel TEXT, user_hash TEXT,
            faq_id TEXT, helpful INTEGER);
        CREATE INDEX IF NOT EXISTS idx_feedback_faq_id ON feedback (faq_id);
        CREATE TABLE IF NOT EXISTS processed_messages (key TEXT PRIMARY KEY, at DOUBLE PRECISION, reply TEXT);
        CREATE TABLE IF NOT EXISTS sessions (key TEXT PRIMARY KEY, state TEXT, updated_at DOUBLE PRECISION);
        """,
    ),
    (
        "create_rate_limits",
        "CREATE TABLE IF NOT EXISTS rate_limits (key TEXT PRIMARY KEY, window_start DOUBLE PRECISION, hits INTEGER)",
    ),
    (
        "create_signed_requests",
        "CREATE TABLE IF NOT EXISTS signed_requests (key TEXT PRIMARY KEY, at DOUBLE PRECISION, fingerprint TEXT)",
    ),
    (
        "create_shared_values",
        "CREATE TABLE IF NOT EXISTS shared_values (key TEXT PRIMARY KEY, value TEXT, expires_at DOUBLE PRECISION)",
    ),
    (
        "create_late_replies",
        """
        CREATE TABLE IF NOT EXISTS late_replies (key TEXT PRIMARY KEY, at TEXT, channel TEXT, user_hash TEXT,
            state TEXT, waiting_until DOUBLE PRECISION DEFAULT 0, text TEXT, pages INTEGER,
            attempts INTEGER DEFAULT 0, error_code INTEGER, error TEXT, done_at TEXT);
        CREATE INDEX IF NOT EXISTS idx_late_replies_at ON late_replies (at);
        """,
    ),
    (
        "add_record_keys",
        """
        ALTER TABLE turns ADD COLUMN IF NOT EXISTS record_key TEXT UNIQUE;
        ALTER TABLE unanswered ADD COLUMN IF NOT EXISTS record_key TEXT UNIQUE;
        ALTER TABLE feedback ADD COLUMN IF NOT EXISTS record_key TEXT UNIQUE;
        """,
    ),
    (
        "create_operators",
        """
        CREATE TABLE IF NOT EXISTS operators (name TEXT PRIMARY KEY, password_hash TEXT, role TEXT, created_at TEXT,
            failed_logins INTEGER DEFAULT 0, locked_until DOUBLE PRECISION DEFAULT 0);
        CREATE TABLE IF NOT EXISTS audit_log (id BIGSERIAL PRIMARY KEY, at TEXT, operator TEXT, action TEXT,
            target TEXT, detail TEXT);
        CREATE INDEX IF NOT EXISTS idx_audit_log_at ON audit_log (at);
        CREATE TABLE IF NOT EXISTS dismissed_questions (question TEXT PRIMARY KEY, at TEXT, operator TEXT);
        """,
    ),
)


class Result:
    """A statement's rows and row count, read before its connection went back to the pool."""

    def __init__(self, cursor: psycopg.Cursor):
        self.rowcount = cursor.rowcount
        self._rows = cursor.fetchall() if cursor.description else []
        self.description = cursor.description

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list:
        return list(self._rows)

    def __iter__(self):
        return iter(self._rows)


class PgDatabase:
    """A pool of connections to one PostgreSQL database, shared by the threads of a process."""

    def __init__(self, url: str, pool_size: int = POOL_SIZE):
        self.url = url
        self.pool_size = pool_size
        self._pool: ConnectionPool | None = None
        self._opening = threading.Lock()
        self._used_at: dict[int, float] = {}
        self._local = threading.local()
        self._down_until = 0.0

    @property
    def pool(self) -> ConnectionPool:
        """Opened at first use, in the process that uses it: gunicorn's master forks workers, never a pool's threads."""
        if self._pool is None:
            with self._opening:
                if self._pool is None:
                    self._pool = ConnectionPool(
                        self.url,
                        min_size=1,
                        max_size=self.pool_size,
                        kwargs={"autocommit": True, "connect_timeout": 3},
                        check=self._check_if_idle,  # a server restart leaves dead connections in the pool
                        timeout=POOL_WAIT_SECONDS,
                        reconnect_timeout=0,  # a failed attempt is dropped at once; the next request tries anew
                        open=True,
                        name="faqbot",
                    )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; psycopg's errors become StorageError, and an unreachable server pauses requests."""
        if time.monotonic() < self._down_until:
            raise StorageError("PostgreSQL: unreachable a moment ago; trying again shortly")
        try:
            with self.pool.connection() as conn:
                try:
                    yield conn
                finally:
                    self._used_at[id(conn)] = time.monotonic()
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL: {type(exc).__name__}: {_first_line(exc)}") from exc
        except PoolTimeout as exc:
            self._down_until = time.monotonic() + DOWN_PAUSE_SECONDS
            raise StorageError(f"PostgreSQL: no connection within {POOL_WAIT_SECONDS:g} s") from exc

    def _check_if_idle(self, conn: psycopg.Connection) -> None:
        """Check a connection that sat idle (a server restart may have cut it); a busy one was fine just now."""
        if time.monotonic() - self._used_at.get(id(conn), 0.0) > IDLE_CHECK_SECONDS:
            ConnectionPool.check_connection(conn)

    @contextmanager
    def transaction(self) -> Iterator[PgDatabase]:
        """One transaction on one connection for this thread; a nested one joins the outer."""
        if getattr(self._local, "conn", None) is not None:
            yield self
            return
        with self._connection() as conn, conn.transaction():
            self._local.conn = conn
            try:
                yield self
            finally:
                self._local.conn = None

    @contextmanager
    def atomic(self) -> Iterator[PgDatabase]:
        """A savepoint inside the current transaction, like sqlite-utils' `atomic`."""
        with self.transaction():
            with self._local.conn.transaction():
                yield self

    def execute(self, sql: str, parameters=()) -> Result:
        """Run one statement: in this thread's transaction, else on its own (autocommit, one round trip)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return Result(conn.execute(_placeholders(sql), list(parameters)))
        with self._connection() as conn:
            return Result(conn.execute(_placeholders(sql), list(parameters)))

    def executescript(self, sql: str) -> None:
        with self.transaction():
            self._local.conn.execute(sql)

    def query(self, sql: str, parameters=()) -> Iterator[dict]:
        result = self.execute(sql, parameters)
        names = [column.name for column in result.description or ()]
        return (dict(zip(names, row, strict=True)) for row in result.fetchall())

    def migrate(self) -> list[str]:
        """Apply the steps not applied yet, one process at a time; the names applied now."""
        applied = []
        with self.transaction():
            self.execute("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK])
            self.execute(
                "CREATE TABLE IF NOT EXISTS _migrations "
                "(id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE, applied_at TIMESTAMPTZ)"
            )
            done = {row["name"] for row in self.query("SELECT name FROM _migrations")}
            for name, sql in MIGRATIONS:
                if name not in done:
                    self.executescript(sql)
                    self.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, now())", [name])
                    applied.append(name)
        return applied

    def applied_migrations(self) -> list[str]:
        return [row["name"] for row in self.query("SELECT name FROM _migrations ORDER BY id")]


def _placeholders(sql: str) -> str:
    """SQLite's `?` as psycopg's `%s` (our SQL has no `?` or `%` inside literals)."""
    return sql.replace("?", "%s")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else "no message"
