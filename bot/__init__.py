"""One conversation for every channel; no HTTP, no XML, no Flask."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict

from sqlite_utils import Database

from .conversation import Conversation, Turn
from .delivery import delivery_key
from .knowledge_source import KnowledgeSource
from .messages import Incoming, Option, Reply
from .privacy import mask, user_hash
from .session import SessionStore, State, state_from_json, state_to_json
from .storage import BUSY_TIMEOUT_MS, StorageError, file_identity, open_db, records, transaction
from .storage.postgres import PgDatabase
from .storage.redis_state import RedisState, row_from_text, row_to_text
from .storage.reload_signal import ReloadSignal
from .storage.shared import SqlValues

log = logging.getLogger(__name__)

#: Delivery keys older than this are forgotten; WeChat retries within about 15 seconds.
DELIVERY_KEY_SECONDS = 24 * 3600
#: Tries at one turn when other messages of the same user keep saving their state first.
TURN_ATTEMPTS = 3
#: How often one process sweeps expired sessions and old delivery keys.
HOUSEKEEPING_SECONDS = 600
#: How often one process moves record rows that Redis kept while PostgreSQL was away (see RedisState).
DRAIN_SECONDS = 5
#: How long /healthz waits for the write lock before calling the database stalled, in milliseconds.
HEALTH_BUSY_TIMEOUT_MS = 1000

__all__ = ["Bot", "Incoming", "Option", "Reply"]


class Bot:
    """Answers Incoming messages; state and records are shared by every worker, and with Redis by every host.

    By default both live in one SQLite file. `database_url` (PostgreSQL) takes the records, and the state
    too unless `redis_url` is set, which takes the per-user state, answered deliveries and rate limits.
    """

    def __init__(
        self,
        knowledge: KnowledgeSource,
        database: str,
        salt: str,
        session_ttl: float = 1800,
        *,
        database_url: str = "",
        redis_url: str = "",
        redis_prefix: str = "faqbot:",
    ):
        self.knowledge = knowledge
        self.database = database
        self.salt = salt
        self.sessions = SessionStore(session_ttl)
        self.pg = PgDatabase(database_url) if database_url else None
        self.shared = RedisState(redis_url, redis_prefix, session_ttl) if redis_url else None
        self.shared_values = self.shared if self.shared is not None else SqlValues(lambda: self.records_db)
        self.reload_signal = ReloadSignal(self.shared_values)
        self._local = threading.local()
        self._conversations: dict[int, Conversation] = {}
        self._swept_at = 0.0
        self._drained_at = 0.0
        self._stored_rows: list[str] = []  # queued rows the database has now, to drop from the queue at the next turn
        self._stored_rows_lock = threading.Lock()
        self._created = False

    def close(self) -> None:
        """Close the PostgreSQL pool and the Redis connections (SQLite connections close with their threads)."""
        if self.pg is not None:
            self.pg.close()
        if self.shared is not None:
            self.shared.redis.close()

    @property
    def records_db(self):
        """Where the records go: PostgreSQL when configured, else this thread's SQLite connection."""
        return self.pg if self.pg is not None else self.db

    @property
    def db(self):
        """One connection per thread (sqlite3 connections must not be shared), reopened when the file changed.

        A removed or replaced file is not written through a stale connection (that would lose every write),
        and after a failure the next use reconnects: a connection opened read-only is never kept.
        """
        db = getattr(self._local, "db", None)
        if db is not None and file_identity(self.database) != self._local.identity:
            self._forget_connection()
            db = None
        if db is None:
            db = open_db(self.database, create=not self._created)
            self._created = True
            self._local.db, self._local.identity = db, file_identity(self.database)
        return db

    def _forget_connection(self) -> None:
        db = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            db.conn.close()

    @contextmanager
    def _storage(self) -> Iterator[Database]:
        """The records database; any SQLite failure becomes a StorageError and the connection is dropped."""
        try:
            yield self.records_db
        except sqlite3.Error as exc:
            self._forget_connection()
            raise StorageError(str(exc)) from exc
        except StorageError:
            self._forget_connection()
            raise

    def database_problem(self) -> str | None:
        """None when the database takes writes now (for /healthz), else the reason; waits at most about 1 s.

        With Redis, only Redis counts: while PostgreSQL is away the records wait in Redis and every host answers.
        """
        if self.shared is not None:
            self._drain_now_and_then()  # load balancers ask often: queued records move even without traffic
            return self.shared.problem()
        if self.pg is not None:
            try:
                with transaction(self.pg):
                    self.pg.execute("DELETE FROM rate_limits WHERE 1 = 0")
            except StorageError as exc:
                return str(exc)
            return None
        try:
            with self._storage() as db:
                db.execute(f"PRAGMA busy_timeout = {HEALTH_BUSY_TIMEOUT_MS}")
                try:
                    with transaction(db):  # a write that touches no row: a read-only connection fails it
                        db.execute("DELETE FROM rate_limits WHERE 1 = 0")
                finally:
                    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except StorageError as exc:
            return str(exc)
        return None

    def conversation(self) -> Conversation:
        kb, matcher = self.knowledge.current()
        conversation = self._conversations.get(id(matcher))
        if conversation is None:
            self._conversations = {id(matcher): Conversation(kb, matcher)}
            conversation = self._conversations[id(matcher)]
        return conversation

    def respond(self, incoming: Incoming) -> Reply:
        """The reply to one message; a retried delivery of the same message gets the first reply again.

        The turn (state, records and the stored reply) is written in one transaction. When the database
        cannot take it, StorageError: nothing is half-stored, the failure is logged with its reason, and
        the channel answers 503 (WeChat retries the message, a mini-program is told to retry).
        """
        who = user_hash(self.salt, incoming.channel, incoming.user_id)
        key = delivery_key(incoming) if incoming.message_id else None
        self._warm_up()
        if self.shared is not None:
            return self._respond_shared(incoming, who, key)
        try:
            with self._storage() as db:
                self._housekeeping(db)
                return self._respond_local(db, incoming, who, key)
        except StorageError as exc:
            log.error("message_failed: channel=%s key=%s user=%s reason=%s", incoming.channel, key, who, exc)
            raise

    def announce_reload(self) -> None:
        """The knowledge files were published here: every other host (Redis) or worker looks at its files now."""
        self.reload_signal.announce()

    def feedback(self, channel: str, user_id: str, faq_id: str, helpful: bool) -> None:
        """Feedback given with a button rather than by typing 有用/没用."""
        who = user_hash(self.salt, channel, user_id)
        with self._storage() as db:
            records.record_feedback(db, channel=channel, user_hash=who, faq_id=faq_id, helpful=helpful)

    def same_content_as_before(self, key: str, fingerprint: str) -> bool:
        """False when a signed request is replayed with other content (a signature that does not cover it)."""
        if self.shared is not None:
            try:
                return self.shared.same_content_as_before(key, fingerprint)
            except StorageError as exc:  # the signature and its time window were checked; only this extra check waits
                log.warning("replay_check_skipped: %s", exc)
                return True
        with self._storage() as db:
            return records.same_content_as_before(db, key, fingerprint)

    def allow(self, key: str, limit: int, window: float) -> float:
        """Count one request for `key`; 0 if within `limit` per `window` seconds, else seconds to wait.

        Keys name IP addresses and platform user ids: only their salted hash is stored.
        """
        hashed = user_hash(self.salt, "rate-limit", key)
        if self.shared is not None:
            try:
                return self.shared.count_request(hashed, limit, window)
            except StorageError as exc:  # answering matters more than counting while Redis is away
                log.warning("rate_limit_skipped: %s", exc)
                return 0.0
        with self._storage() as db:
            return records.count_request(db, hashed, limit, window)

    def _warm_up(self) -> None:
        """Have a matcher before the write lock is taken: the first training takes seconds, later ones run apart.

        Before the first matcher, wait for it (unless the base is known to be broken: not loaded twice);
        after it, only notice edited files, which are retrained in the background.
        """
        try:
            if self.reload_signal.heard():
                self.knowledge.look_now()
            if self.knowledge.ready or self.knowledge.last_problems:
                self.knowledge.refresh()
            else:
                self.knowledge.current()
        except Exception:  # the turn meets the same error and answers with the error reply
            pass

    def _housekeeping(self, db: Database) -> None:
        now = time.time()
        if now - self._swept_at >= HOUSEKEEPING_SECONDS:
            self._swept_at = now
            self.sessions.expire(db)
            records.forget_before(db, now - DELIVERY_KEY_SECONDS)

    def _respond_local(self, db: Database, incoming: Incoming, who: str, key: str | None) -> Reply:
        """A turn on the database: read the state, think without any lock, then write it all in one transaction.

        Thinking (matching) takes most of a turn; under the write lock it would serialise every worker's turns
        (SQLite has one lock for the whole file). The write checks that no other message of the same user saved
        its state meanwhile (else the turn is thought again on the new state) and that no retry of the same
        message was answered meanwhile (then that reply is the answer: every message is answered once).
        """
        started = time.perf_counter()
        session_key = f"{incoming.channel}:{who}"
        for _ in range(TURN_ATTEMPTS):
            stored = records.stored_reply(db, key) if key else None
            if stored is None:
                state, version = self.sessions.load(db, session_key)
                turn = self._think(incoming, who, state)
                if turn is None:
                    return self._error_reply()
                with transaction(db):
                    stored = records.stored_reply(db, key) if key else None
                    if stored is None and self.sessions.save(db, session_key, turn.state, version):
                        rows = self._record_rows(incoming, who, turn, key, (time.perf_counter() - started) * 1000)
                        records.write_rows(db, rows)
                        if key:
                            records.store_reply(db, key, _reply_to_dict(turn.reply))
                        return turn.reply
            if stored is not None:
                log.info("retry_answered_from_store: channel=%s user=%s", incoming.channel, who)
                return _reply_from_dict(stored)
        log.warning("turn_state_not_saved: %d concurrent messages kept winning", TURN_ATTEMPTS)
        return turn.reply

    def _log_turn_failure(self, incoming: Incoming, who: str, exc: Exception) -> None:
        log.exception(
            "turn_failed: channel=%s user=%s kind=%s reason=%s",
            incoming.channel,
            who,
            incoming.kind,
            type(exc).__name__,
        )

    def _respond_shared(self, incoming: Incoming, who: str, key: str | None) -> Reply:
        """A turn on Redis: one read, one atomic write (state, reply, record rows), then the rows to the database.

        Redis away: the user is answered from a fresh state and the rows go straight to the database.
        """
        started = time.perf_counter()
        session_key = f"{incoming.channel}:{who}"
        try:
            for _ in range(TURN_ATTEMPTS):
                begun = self.shared.begin(session_key, key)
                if begun.stored_reply is not None:
                    log.info("retry_answered_from_store: channel=%s user=%s", incoming.channel, who)
                    return _reply_from_dict(begun.stored_reply)
                turn = self._think(incoming, who, state_from_json(begun.state))
                if turn is None:
                    return self._error_reply()
                rows = self._record_rows(incoming, who, turn, key, (time.perf_counter() - started) * 1000)
                texts = [row_to_text(row) for row in rows]
                state, reply = state_to_json(turn.state), _reply_to_dict(turn.reply) if key else None
                forget = self._take_stored_rows()
                try:
                    if self.shared.commit(session_key, state, begun.version, key, reply, texts, forget):
                        break
                except StorageError:
                    self._note_stored_rows(forget)
                    raise
            else:
                log.warning("turn_state_not_saved: %d concurrent messages kept winning", TURN_ATTEMPTS)
                return turn.reply
        except StorageError as exc:
            log.error("state_unavailable: channel=%s user=%s reason=%s", incoming.channel, who, exc)
            turn = self._think(incoming, who, State())
            if turn is None:
                return self._error_reply()
            rows = self._record_rows(incoming, who, turn, key, (time.perf_counter() - started) * 1000)
            with self._storage() as db:  # if PostgreSQL is away too: StorageError, and the channel answers 503
                records.write_rows(db, rows)
            return turn.reply
        self._store_rows(texts, forget_later=True)
        self._drain_now_and_then()
        return turn.reply

    def _think(self, incoming: Incoming, who: str, state: State) -> Turn | None:
        """The turn on `state`; None when it failed (logged): the caller answers with the error reply."""
        try:
            return self.conversation().turn(incoming, state)
        # One broad except at the turn boundary: whatever else fails inside a turn, the user gets a polite reply
        # and the service keeps answering; the traceback goes to the log without message text.
        except Exception as exc:
            self._log_turn_failure(incoming, who, exc)
            return None

    def _store_rows(self, texts: list[str], forget_later: bool = False) -> None:
        """Move record rows queued in Redis into the database; while it is away they wait there (logged).

        `forget_later`: they leave the queue with the next turn's write, saving a round trip now.
        """
        if not texts:
            return
        try:
            with self._storage() as db:
                records.write_rows(db, [row_from_text(text) for text in texts])
            if forget_later:
                self._note_stored_rows(texts)
            else:
                self.shared.forget_rows(texts)
        except StorageError as exc:
            log.warning("records_queued: rows=%d reason=%s", len(texts), exc)

    def _note_stored_rows(self, texts: list[str]) -> None:
        with self._stored_rows_lock:
            self._stored_rows.extend(texts)

    def _take_stored_rows(self) -> list[str]:
        with self._stored_rows_lock:
            taken, self._stored_rows = self._stored_rows[:200], self._stored_rows[200:]
        return taken

    def _drain_now_and_then(self) -> None:
        now = time.time()
        if now - self._drained_at >= DRAIN_SECONDS:
            self._drained_at = now
            try:
                self._store_rows(self.shared.queued_rows())
            except StorageError as exc:
                log.warning("records_queued: reason=%s", exc)

    def _record_rows(
        self, incoming: Incoming, who: str, turn: Turn, key: str | None, latency_ms: float
    ) -> list[tuple[str, str, dict]]:
        """The record rows of a turn, each with a key that makes writing it twice harmless."""
        reply = turn.reply
        if reply.action == "none":
            return []
        turn_id = key or uuid.uuid4().hex
        question = mask(incoming.text if incoming.kind in ("text", "voice") else f"[{incoming.kind}] {incoming.text}")
        rows = [
            (
                "turns",
                f"{turn_id}:turn",
                records.turn_row(
                    channel=incoming.channel,
                    user_hash=who,
                    question=question,
                    action=reply.action,
                    faq_id=reply.faq_id,
                    score=reply.score,
                    region=reply.region,
                    latency_ms=latency_ms,
                ),
            )
        ]
        if reply.action == "fallback":
            best = turn.match.candidates[0].faq_id if turn.match and turn.match.candidates else None
            row = records.unanswered_row(
                channel=incoming.channel, user_hash=who, question=question, score=reply.score, best_faq_id=best
            )
            rows.append(("unanswered", f"{turn_id}:unanswered", row))
        if reply.action == "feedback":
            row = records.feedback_row(
                channel=incoming.channel, user_hash=who, faq_id=reply.faq_id, helpful=reply.extra["helpful"]
            )
            rows.append(("feedback", f"{turn_id}:feedback", row))
        log.info(
            "turn: channel=%s user=%s action=%s faq_id=%s latency_ms=%.1f",
            incoming.channel,
            who,
            reply.action,
            reply.faq_id,
            latency_ms,
        )
        return rows

    def _error_reply(self) -> Reply:
        try:
            return Reply(self.conversation().replies.fill("error"), "error")
        except Exception:  # the knowledge base itself is unusable: still say something
            return Reply("抱歉，系统开小差了，请稍后再试。急事请拨打12393医保服务热线。", "error")


def _reply_to_dict(reply: Reply) -> dict:
    return asdict(reply)


def _reply_from_dict(data: dict) -> Reply:
    data = dict(data)
    data["options"] = tuple(Option(**o) for o in data.get("options", ()))
    data["related"] = tuple(Option(**o) for o in data.get("related", ()))
    return Reply(**data)
