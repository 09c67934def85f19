"""One conversation for every channel; no HTTP, no XML, no Flask."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import asdict

from .conversation import Conversation, Turn
from .knowledge_source import KnowledgeSource
from .messages import Incoming, Option, Reply
from .privacy import mask, user_hash
from .session import SessionStore
from .storage import StorageError, open_db, records

log = logging.getLogger(__name__)

#: How long a retried delivery waits for the first delivery's reply (WeChat itself gives up after 5 s).
RETRY_WAIT_SECONDS = 4.5
#: Delivery keys older than this are forgotten; WeChat retries within about 15 seconds.
DELIVERY_KEY_SECONDS = 24 * 3600
#: Tries at one turn when other messages of the same user keep saving their state first.
TURN_ATTEMPTS = 3
#: How often one process sweeps expired sessions and old delivery keys.
HOUSEKEEPING_SECONDS = 600

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

    @property
    def db(self):
        """One connection per thread: sqlite3 connections must not be shared between threads."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = open_db(self.database)
        return db

    def database_answers(self) -> bool:
        """A query on this thread's connection works (for /healthz; no new connection per probe)."""
        try:
            self.db.execute("SELECT 1")
        except (StorageError, sqlite3.Error):
            return False
        return True

    def conversation(self) -> Conversation:
        kb, matcher = self.knowledge.current()
        conversation = self._conversations.get(id(matcher))
        if conversation is None:
            self._conversations = {id(matcher): Conversation(kb, matcher)}
            conversation = self._conversations[id(matcher)]
        return conversation

    def respond(self, incoming: Incoming) -> Reply:
        """The reply to one message; a retried delivery of the same message gets the first reply again."""
        if not incoming.message_id:
            return self._respond(incoming)
        key = f"{incoming.channel}:{incoming.message_id}"
        if not records.claim_message(self.db, key):
            stored = records.wait_for_reply(self.db, key, RETRY_WAIT_SECONDS)
            log.info("retry_answered_from_store: found=%s", stored is not None)
            return _reply_from_dict(stored) if stored else Reply(None, "none")
        reply = self._respond(incoming)
        records.store_reply(self.db, key, _reply_to_dict(reply))
        return reply

    def feedback(self, channel: str, user_id: str, faq_id: str, helpful: bool) -> None:
        """Feedback given with a button rather than by typing 有用/没用."""
        who = user_hash(self.salt, channel, user_id)
        records.record_feedback(self.db, channel=channel, user_hash=who, faq_id=faq_id, helpful=helpful)

    def same_content_as_before(self, key: str, fingerprint: str) -> bool:
        """False when a signed request is replayed with other content (a signature that does not cover it)."""
        return records.same_content_as_before(self.db, key, fingerprint)

    def allow(self, key: str, limit: int, window: float) -> float:
        """Count one request for `key`; 0 if within `limit` per `window` seconds, else seconds to wait.

        Keys name IP addresses and platform user ids: only their salted hash is stored.
        """
        return records.count_request(self.db, user_hash(self.salt, "rate-limit", key), limit, window)

    def _housekeeping(self) -> None:
        now = time.time()
        if now - self._swept_at >= HOUSEKEEPING_SECONDS:
            self._swept_at = now
            self.sessions.expire(self.db)
            records.forget_before(self.db, now - DELIVERY_KEY_SECONDS)

    def _respond(self, incoming: Incoming) -> Reply:
        started = time.perf_counter()
        who = user_hash(self.salt, incoming.channel, incoming.user_id)
        session_key = f"{incoming.channel}:{who}"
        try:
            self._housekeeping()
            turn = self._turn(incoming, session_key)
            self._record(incoming, who, turn, (time.perf_counter() - started) * 1000)
            return turn.reply
        # One broad except at the turn boundary: whatever fails inside a turn, the user gets a polite
        # reply and the service keeps answering; the traceback goes to the log without message text.
        except Exception:
            log.exception("turn_failed: channel=%s user=%s kind=%s", incoming.channel, who, incoming.kind)
            return self._error_reply()

    def _turn(self, incoming: Incoming, session_key: str) -> Turn:
        """Load, think, save; if another message of the same user saved in between, think again on its state."""
        for _ in range(TURN_ATTEMPTS):
            state, version = self.sessions.load(self.db, session_key)
            turn = self.conversation().turn(incoming, state)
            if self.sessions.save(self.db, session_key, turn.state, version):
                return turn
        log.warning("turn_state_not_saved: %d concurrent messages kept winning", TURN_ATTEMPTS)
        return turn

    def _record(self, incoming: Incoming, who: str, turn: Turn, latency_ms: float) -> None:
        reply = turn.reply
        if reply.action == "none":
            return
        question = mask(incoming.text if incoming.kind in ("text", "voice") else f"[{incoming.kind}] {incoming.text}")
        records.log_turn(
            self.db,
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
                self.db,
                channel=incoming.channel,
                user_hash=who,
                question=question,
                score=reply.score,
                best_faq_id=best,
            )
        if reply.action == "feedback":
            records.record_feedback(
                self.db, channel=incoming.channel, user_hash=who, faq_id=reply.faq_id, helpful=reply.extra["helpful"]
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
