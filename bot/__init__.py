"""One conversation for every channel; no HTTP, no XML, no Flask."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict

from sqlite_utils import Database

from .conversation import Conversation, Turn
from .delivery import delivery_key
from .knowledge_source import KnowledgeSource
from .messages import Incoming, Option, Reply
from .privacy import mask, user_hash
from .session import SessionStore
from .storage import BUSY_TIMEOUT_MS, StorageError, file_identity, open_db, records, transaction

log = logging.getLogger(__name__)

#: Delivery keys older than this are forgotten; WeChat retries within about 15 seconds.
DELIVERY_KEY_SECONDS = 24 * 3600
#: Tries at one turn when other messages of the same user keep saving their state first.
TURN_ATTEMPTS = 3
#: How often one process sweeps expired sessions and old delivery keys.
HOUSEKEEPING_SECONDS = 600
#: How long /healthz waits for the write lock before calling the database stalled, in milliseconds.
HEALTH_BUSY_TIMEOUT_MS = 1000

__all__ = ["Bot", "Incoming", "Option", "Reply"]


class Bot:
    """Answers Incoming messages; state and records live in one SQLite file shared by all workers."""

    def __init__(self, knowledge: KnowledgeSource, database: str, salt: str, session_ttl: float = 1800):
        self.knowledge = knowledge
        self.database = database
        self.salt = salt
        self.sessions = SessionStore(session_ttl)
        self._local = threading.local()
        self._conversations: dict[int, Conversation] = {}
        self._swept_at = 0.0
        self._created = False

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
        """This thread's connection; any SQLite failure becomes a StorageError and the connection is dropped."""
        try:
            yield self.db
        except sqlite3.Error as exc:
            self._forget_connection()
            raise StorageError(str(exc)) from exc
        except StorageError:
            self._forget_connection()
            raise

    def database_problem(self) -> str | None:
        """None when the database takes writes now (for /healthz), else the reason; waits at most about 1 s."""
        try:
            with self._storage() as db:
                db.execute(f"PRAGMA busy_timeout = {HEALTH_BUSY_TIMEOUT_MS}")
                try:
                    with transaction(db):  # a write that touches no row: a read-only connection fails it
                        db.execute("DELETE FROM rate_limits WHERE 0")
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
        try:
            with self._storage() as db:
                self._housekeeping(db)
                with transaction(db):
                    stored = records.stored_reply(db, key) if key else None
                    if stored is not None:
                        log.info("retry_answered_from_store: channel=%s user=%s", incoming.channel, who)
                        return _reply_from_dict(stored)
                    reply = self._respond(db, incoming, who)
                    if key:
                        records.store_reply(db, key, _reply_to_dict(reply))
                    return reply
        except StorageError as exc:
            log.error("message_failed: channel=%s key=%s user=%s reason=%s", incoming.channel, key, who, exc)
            raise

    def feedback(self, channel: str, user_id: str, faq_id: str, helpful: bool) -> None:
        """Feedback given with a button rather than by typing 有用/没用."""
        who = user_hash(self.salt, channel, user_id)
        with self._storage() as db:
            records.record_feedback(db, channel=channel, user_hash=who, faq_id=faq_id, helpful=helpful)

    def same_content_as_before(self, key: str, fingerprint: str) -> bool:
        """False when a signed request is replayed with other content (a signature that does not cover it)."""
        with self._storage() as db:
            return records.same_content_as_before(db, key, fingerprint)

    def allow(self, key: str, limit: int, window: float) -> float:
        """Count one request for `key`; 0 if within `limit` per `window` seconds, else seconds to wait.

        Keys name IP addresses and platform user ids: only their salted hash is stored.
        """
        with self._storage() as db:
            return records.count_request(db, user_hash(self.salt, "rate-limit", key), limit, window)

    def _warm_up(self) -> None:
        """Have a matcher before the write lock is taken: the first training takes seconds, later ones run apart.

        Before the first matcher, wait for it (unless the base is known to be broken: not loaded twice);
        after it, only notice edited files, which are retrained in the background.
        """
        try:
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

    def _respond(self, db: Database, incoming: Incoming, who: str) -> Reply:
        started = time.perf_counter()
        session_key = f"{incoming.channel}:{who}"
        try:
            with db.atomic():  # a savepoint: a turn that fails half-way leaves nothing behind
                turn = self._turn(db, incoming, session_key)
                self._record(db, incoming, who, turn, (time.perf_counter() - started) * 1000)
            return turn.reply
        except sqlite3.Error:
            raise  # the database, not the turn: respond() reports it and the channel asks for a retry
        # One broad except at the turn boundary: whatever else fails inside a turn, the user gets a polite
        # reply and the service keeps answering; the traceback goes to the log without message text.
        except Exception as exc:
            log.exception(
                "turn_failed: channel=%s user=%s kind=%s reason=%s",
                incoming.channel,
                who,
                incoming.kind,
                type(exc).__name__,
            )
            return self._error_reply()

    def _turn(self, db: Database, incoming: Incoming, session_key: str) -> Turn:
        """Load, think, save; if another message of the same user saved in between, think again on its state."""
        for _ in range(TURN_ATTEMPTS):
            state, version = self.sessions.load(db, session_key)
            turn = self.conversation().turn(incoming, state)
            if self.sessions.save(db, session_key, turn.state, version):
                return turn
        log.warning("turn_state_not_saved: %d concurrent messages kept winning", TURN_ATTEMPTS)
        return turn

    def _record(self, db: Database, incoming: Incoming, who: str, turn: Turn, latency_ms: float) -> None:
        reply = turn.reply
        if reply.action == "none":
            return
        question = mask(incoming.text if incoming.kind in ("text", "voice") else f"[{incoming.kind}] {incoming.text}")
        records.log_turn(
            db,
            channel=incoming.channel,
            user_hash=who,
            question=question,
            action=reply.action,
            faq_id=reply.faq_id,
            score=reply.score,
            region=reply.region,
            latency_ms=latency_ms,
        )
        if reply.action == "fallback":
            best = turn.match.candidates[0].faq_id if turn.match and turn.match.candidates else None
            records.record_unanswered(
                db,
                channel=incoming.channel,
                user_hash=who,
                question=question,
                score=reply.score,
                best_faq_id=best,
            )
        if reply.action == "feedback":
            records.record_feedback(
                db, channel=incoming.channel, user_hash=who, faq_id=reply.faq_id, helpful=reply.extra["helpful"]
            )
        log.info(
            "turn: channel=%s user=%s action=%s faq_id=%s latency_ms=%.1f",
            incoming.channel,
            who,
            reply.action,
            reply.faq_id,
            latency_ms,
        )

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
