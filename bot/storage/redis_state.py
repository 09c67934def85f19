"""Per-user state in Redis, for several hosts: sessions, answered deliveries, rate limits, shared values.

A turn is read in one round trip (`begin`) and written in one (`commit`, a Lua script, atomic): the user's
state (if nobody saved it meanwhile), the reply under its delivery key, and the turn's record rows, queued
in a list until the record database has them (`queued_rows`, `forget_rows`). So PostgreSQL being away never
loses a record nor stops an answer, and a host that dies mid-turn leaves nothing half-written.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from . import StorageError

#: Seconds a Redis command may take before the server counts as away.
SOCKET_TIMEOUT_SECONDS = 2.0
#: How long the reply to a delivery key is kept for WeChat's retries (it retries within about 15 seconds).
REPLY_SECONDS = 24 * 3600

_COMMIT = """
local forget = tonumber(ARGV[6])
for i = 7, 6 + forget do redis.call('LREM', KEYS[3], 1, ARGV[i]) end
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[2], 'v', version + 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[5]) end
for i = 7 + forget, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
return 1
"""

_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Begun:
    """What a turn starts from: the reply already given to this delivery, or the user's state and its version."""

    stored_reply: dict | None
    state: str | None
    version: int


class RedisState:
    """One Redis for every host; every key starts with `prefix`, so one server can hold several services."""

    def __init__(self, url: str, prefix: str = "faqbot:", session_ttl: float = 1800):
        self.prefix = prefix
        self.session_ttl_ms = max(int(session_ttl * 1000), 1)
        self.redis = redis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
            health_check_interval=15,
            decode_responses=True,
        )
        self._commit = self.redis.register_script(_COMMIT)
        self._delete_if = self.redis.register_script(_DELETE_IF)
        self.outbox = f"{prefix}outbox"

    def _call(self, what, *args, **kwargs):
        try:
            return what(*args, **kwargs)
        except redis.RedisError as exc:
            raise StorageError(f"Redis: {type(exc).__name__}: {exc}") from exc

    def problem(self) -> str | None:
        """None when Redis answers, else the reason (for /healthz)."""
        try:
            self._call(self.redis.ping)
        except StorageError as exc:
            return str(exc)
        return None

    # A turn

    def begin(self, session_key: str, delivery_key: str | None) -> Begun:
        pipe = self.redis.pipeline(transaction=False)
        pipe.hmget(f"{self.prefix}s:{session_key}", "s", "v")
        pipe.get(f"{self.prefix}r:{delivery_key}" if delivery_key else f"{self.prefix}r:")
        (state, version), reply = self._call(pipe.execute)
        return Begun(json.loads(reply) if reply else None, state, int(version or 0))

    def commit(
        self,
        session_key: str,
        state: str,
        version: int,
        delivery_key: str | None,
        reply: dict | None,
        rows: list[str],
        forget: list[str] = (),
    ) -> bool:
        """Save the state, the reply and the queued rows at once; False if the user's state moved meanwhile.

        `forget` are rows the database has by now (from earlier turns): dropped from the queue in the same trip.
        """
        keys = [f"{self.prefix}s:{session_key}", f"{self.prefix}r:{delivery_key}", self.outbox]
        text = json.dumps(reply, ensure_ascii=False) if delivery_key and reply is not None else ""
        args = [version, state, self.session_ttl_ms, text, REPLY_SECONDS, len(forget), *forget, *rows]
        return self._call(self._commit, keys, args) == 1

    # The record rows waiting for the record database

    def queued_rows(self, limit: int = 200) -> list[str]:
        return self._call(self.redis.lrange, self.outbox, 0, limit - 1)

    def forget_rows(self, texts: list[str]) -> None:
        """Drop rows the record database has now (by value: several hosts may drain the queue at once)."""
        pipe = self.redis.pipeline(transaction=False)
        for text in texts:
            pipe.lrem(self.outbox, 1, text)
        self._call(pipe.execute)

    # Messages whose reply missed the channel's window (bot.delivery); the details are in the database

    def mark_late(self, key: str) -> None:
        self._call(self.redis.set, f"{self.prefix}late:{key}", "1", ex=REPLY_SECONDS)

    def was_late(self, key: str) -> bool:
        return bool(self._call(self.redis.exists, f"{self.prefix}late:{key}"))

    # Requests

    def count_request(self, key: str, limit: int, window: float) -> float:
        """Fixed-window rate limit shared by every host: 0 if allowed, else seconds until the window ends."""
        now = time.time()
        start = now - now % window
        name = f"{self.prefix}rl:{key}:{int(start)}"
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, int(window) + 1)
        hits, _ = self._call(pipe.execute)
        return 0.0 if hits <= limit else max(start + window - now, 0.001)

    def same_content_as_before(self, key: str, fingerprint: str) -> bool:
        """Remember what a signed request carried; False if the same signature came before with other content."""
        name = f"{self.prefix}sig:{key}"
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(name, fingerprint, nx=True, ex=REPLY_SECONDS)
        pipe.get(name)
        _, stored = self._call(pipe.execute)
        return stored == fingerprint

    # Values every host shares (the WeChat access token) and leases

    def get_value(self, key: str) -> str | None:
        return self._call(self.redis.get, f"{self.prefix}v:{key}")

    def set_value(self, key: str, value: str, ttl: float) -> None:
        self._call(self.redis.set, f"{self.prefix}v:{key}", value, px=max(int(ttl * 1000), 1))

    def delete_value(self, key: str, only_if: str | None = None) -> bool:
        if only_if is None:
            return self._call(self.redis.delete, f"{self.prefix}v:{key}") == 1
        return self._call(self._delete_if, [f"{self.prefix}v:{key}"], [only_if]) == 1

    def take_lease(self, key: str, seconds: float) -> str | None:
        owner = secrets.token_hex(8)
        taken = self._call(self.redis.set, f"{self.prefix}v:{key}", owner, px=max(int(seconds * 1000), 1), nx=True)
        return owner if taken else None

    def release_lease(self, key: str, owner: str) -> None:
        self.delete_value(key, only_if=owner)


def row_to_text(row: tuple[str, str | None, dict]) -> str:
    table, record_key, values = row
    return json.dumps([table, record_key, values], ensure_ascii=False)


def row_from_text(text: str) -> tuple[str, str | None, dict]:
    table, record_key, values = json.loads(text)
    return table, record_key, values
