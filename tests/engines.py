"""Redis + PostgreSQL for the tests: a fresh schema and key prefix per store, on the servers `.ci/engines` starts.

FAQBOT_TEST_REDIS_URL and FAQBOT_TEST_DATABASE_URL name the servers; without them the Redis + PostgreSQL
runs are skipped with the reason, unless FAQBOT_TEST_ENGINES_REQUIRED is set (CI sets it): then they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
import redis

from bot import Bot
from bot.storage.postgres import PgDatabase

ROOT = Path(__file__).resolve().parent.parent
SQLITE, SHARED = "sqlite", "redis+postgres"
ENGINES = (SQLITE, SHARED)


def urls() -> tuple[str, str]:
    return os.environ.get("FAQBOT_TEST_REDIS_URL", ""), os.environ.get("FAQBOT_TEST_DATABASE_URL", "")


def require() -> None:
    """Skip (fail, in CI) when no Redis and PostgreSQL were given to test against."""
    if all(urls()):
        return
    reason = "Redis + PostgreSQL not configured: set FAQBOT_TEST_REDIS_URL and FAQBOT_TEST_DATABASE_URL (.ci/engines)"
    if os.environ.get("FAQBOT_TEST_ENGINES_REQUIRED"):
        pytest.fail(reason + "; FAQBOT_TEST_ENGINES_REQUIRED is set", pytrace=False)
    pytest.skip(reason)


def with_schema(url: str, schema: str) -> str:
    """The database URL with `schema` first on the search path: each test's tables apart from the others'."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_store(migrate: bool = True) -> Iterator[dict]:
    """create_app settings for an empty PostgreSQL schema and an unused Redis prefix; both removed afterwards.

    Migrated as gunicorn's master would before any worker starts, unless `migrate` is False.
    """
    require()
    redis_url, database_url = urls()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        if migrate:
            migrated = PgDatabase(with_schema(database_url, schema))
            migrated.migrate()
            migrated.close()
        yield {"DATABASE_URL": with_schema(database_url, schema), "REDIS_URL": redis_url, "REDIS_PREFIX": f"{schema}:"}
    finally:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"{schema}:*"):
            client.delete(key)
        client.close()


@contextmanager
def store(engine: str, folder) -> Iterator[dict]:
    """create_app settings for an empty store on `engine`: an SQLite file in `folder`, or Redis + PostgreSQL."""
    settings = {"DATABASE": str(folder / "bot.sqlite")}
    if engine == SQLITE:
        yield settings
        return
    with fresh_store() as shared:
        yield {**settings, **shared}


def bot_on(settings: dict, knowledge, salt: str = "test-salt", **options) -> Bot:
    """A Bot on the store `settings` describes (from `store`), as create_app would build it."""
    return Bot(
        knowledge,
        settings["DATABASE"],
        salt,
        database_url=settings.get("DATABASE_URL", ""),
        redis_url=settings.get("REDIS_URL", ""),
        redis_prefix=settings.get("REDIS_PREFIX", "faqbot:"),
        **options,
    )


def rows(bot: Bot, table: str) -> list[dict]:
    """Every row of a record table, oldest first, from whichever database holds the records."""
    return list(bot.records_db.query(f"SELECT * FROM {table} ORDER BY id"))


class Servers:
    """A private Redis and PostgreSQL (`.ci/engines`) that a fault test may stop and start again."""

    def __init__(self):
        if not shutil.which("redis-server") or not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
            reason = "redis-server or PostgreSQL not installed (apt-get install redis-server postgresql)"
            if os.environ.get("FAQBOT_TEST_ENGINES_REQUIRED"):
                pytest.fail(reason, pytrace=False)
            pytest.skip(reason)
        self.folder = Path(tempfile.mkdtemp(prefix="faqbot-servers-"))
        self.folder.chmod(0o755)  # PostgreSQL runs as its own user when we are root
        exports = self._engines("up")
        found = dict(re.findall(r"export (\w+)=(\S+)", exports))
        self.redis_url, self.database_url = found["FAQBOT_TEST_REDIS_URL"], found["FAQBOT_TEST_DATABASE_URL"]

    def _engines(self, *arguments: str) -> str:
        done = subprocess.run(
            [str(ROOT / ".ci" / "engines"), str(self.folder / "s"), *arguments], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop(self, which: str) -> None:
        self._engines("down", which)

    def start(self, which: str) -> None:
        self._engines("up", which)

    def settings(self) -> dict:
        """Server settings (environment variables) for a host on these servers."""
        return {"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url, "REDIS_PREFIX": "faults:"}

    def sql(self, statement: str, parameters=()) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            cursor = connection.execute(statement, parameters)
            return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        self._engines("down")
        shutil.rmtree(self.folder, ignore_errors=True)
