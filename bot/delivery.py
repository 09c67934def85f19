"""Replies that missed a channel's reply window, delivered exactly once: by a retried request, or sent later.

WeChat waits 5 seconds for a reply. A turn that takes longer is answered `success`, and its reply goes out
when the turn ends through a `Send` the channel provides (WeChat: the customer-service message API). A retry
of the same message may carry the reply itself instead: whoever claims it first delivers it, the other not.
The outcome (sent, refused with the platform's code, failed) is recorded with the text, so nothing is lost.
A channel that answers every message this way (the mini-program's chat) also gives the `SendWindow` of messages
the platform still allows and how to `compose` a reply into messages that fit it.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from sqlite_utils import Database

from .messages import Incoming, Reply
from .paging import paginate
from .privacy import user_hash
from .send_window import Allowance, SendWindow
from .storage import StorageError, late_replies

log = logging.getLogger(__name__)

#: How long after a waiting retry's deadline the sender still leaves the reply to it.
WAITER_GRACE_SECONDS = 0.5
#: Pause before the one retry of a send that failed or found the platform busy.
RETRY_PAUSE_SECONDS = 1.0
#: WeChat's "system busy, try again" code.
BUSY = -1
#: Recorded when nothing was sent because the platform's window allows no more messages (WeChat's own: 45047).
NO_ROOM = 45047
#: Refusals meaning the user's window is shut: out of the 48 hours (45015), or over the count (45047).
WINDOW_SHUT = frozenset({45015, NO_ROOM})


class SendRefused(Exception):
    """The platform refused the message, with its error code (WeChat: 45015 = out of the 48-hour window …)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


class SendFailed(Exception):
    """The platform could not be reached, or sending is not configured."""


@dataclass(frozen=True)
class PageCard:
    """A link to a page of the channel's own app (WeChat: a mini-program page card), for what a text cannot carry."""

    title: str
    faq_id: str | None = None


#: One message to send: a text, or a card.
Outgoing = str | PageCard
#: Sends one message to a user of the channel (by the channel's user id); raises SendRefused or SendFailed.
Send = Callable[[str, Outgoing], None]
#: The messages for a reply when at most `room` may be sent (None: no limit); the channel's choice.
Compose = Callable[[Reply, int | None], list[Outgoing]]


def text_pages(reply: Reply, room: int | None) -> list[Outgoing]:
    """The reply's text in pages one message can carry (≤ 2000 bytes), as many as there is room for."""
    pages = [page.strip() for page in paginate(reply.text or "", "")]
    return pages if room is None else pages[:room]


def delivery_key(incoming: Incoming) -> str:
    """The key one message is known by in every worker, across WeChat's retries of it."""
    return f"{incoming.channel}:{incoming.message_id}"


class LateMarks(Protocol):
    """A fast place (Redis) that says whether a message was ever late, so on-time ones skip the database."""

    def mark_late(self, key: str) -> None: ...
    def was_late(self, key: str) -> bool: ...


class LateReplies:
    """Hands a late turn's reply to `send` once it is ready, unless a retry of the same message carries it."""

    def __init__(
        self,
        db: Callable[[], Database],
        salt: str,
        send: Send | None,
        marks: LateMarks | None = None,
        *,
        unconfigured: str = "no customer-service API configured (WECHAT_APP_SECRET is empty)",
        window: SendWindow | None = None,
        compose: Compose = text_pages,
    ):
        self._db = db
        self.salt = salt
        self.send = send
        self.marks = marks
        self.unconfigured = unconfigured  # the reason recorded when `send` is None
        self.window = window  # how many messages the platform still allows, when it limits them
        self.compose = compose
        self._senders = ThreadPoolExecutor(max_workers=4, thread_name_prefix="late-reply")

    def waiting(self, incoming: Incoming, until: float) -> None:
        """A request for a message that was late before waits until `until`: its own reply may carry the answer."""
        if not incoming.message_id or not self._maybe_late(delivery_key(incoming)):
            return
        try:
            with self._database() as db:
                if late_replies.state_of(db, delivery_key(incoming)) == "pending":
                    late_replies.wait_here(db, delivery_key(incoming), until)
        except StorageError as exc:  # the records database is away: the turn itself can still be answered
            log.warning("late_reply_check_skipped: %s", exc)

    def may_reply(self, incoming: Incoming) -> bool:
        """True if this request's reply may carry the answer: it was not, and now will not be, sent another way."""
        if not incoming.message_id or not self._maybe_late(delivery_key(incoming)):
            return True
        try:
            with self._database() as db:
                return late_replies.claim_passive(db, delivery_key(incoming))
        except StorageError as exc:  # answering now beats the small chance that a late sender also sends it
            log.warning("late_reply_check_skipped: %s", exc)
            return True

    def window_opened(self, incoming: Incoming, allowance: Allowance) -> None:
        """The user's action allows `allowance` messages; a retried delivery of it allows nothing new."""
        if self.window is None:
            return
        if incoming.message_id:
            with self._database() as db:
                if late_replies.state_of(db, delivery_key(incoming)) is not None:
                    return
        self.window.opened(user_hash(self.salt, incoming.channel, incoming.user_id), allowance)

    def hand_over(self, incoming: Incoming, turn: Future) -> None:
        """The request stops waiting for `turn`; its reply is sent when it ends, unless a retry carries it first."""
        if not incoming.message_id:
            log.warning("late_reply_lost: kind=%s has no message id to deliver it by", incoming.kind)
            return
        key = delivery_key(incoming)
        who = user_hash(self.salt, incoming.channel, incoming.user_id)
        with self._database() as db:  # if this fails the request gets 503, and WeChat's retry gets the reply
            late_replies.mark_late(db, key, incoming.channel, who)
        if self.marks is not None:
            try:
                self.marks.mark_late(key)  # after the row: whoever sees the mark finds the row
            except StorageError as exc:  # retries then cannot skip the database check: still correct
                log.warning("late_mark_skipped: %s", exc)
        user_id = incoming.user_id  # kept in memory only: the database has the hash
        turn.add_done_callback(lambda done: self._senders.submit(self._deliver, key, who, user_id, done))

    def _maybe_late(self, key: str) -> bool:
        """False only when the marks say this message was never late; without marks (or reachable ones), True."""
        if self.marks is None:
            return True
        try:
            return self.marks.was_late(key)
        except StorageError:
            return True

    @contextmanager
    def _database(self) -> Iterator[Database]:
        """The connection for a request; an SQLite failure is a StorageError, which the channel answers 503."""
        try:
            yield self._db()
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc

    def _deliver(self, key: str, who: str, user_id: str, turn: Future) -> None:
        try:
            self._deliver_ready(key, who, user_id, turn)
        except Exception:  # the database failing under the sender: the reply stays stored, and the log says so
            log.exception("late_reply_lost: user=%s, delivering it failed", who)

    def _deliver_ready(self, key: str, who: str, user_id: str, turn: Future) -> None:
        try:
            reply: Reply = turn.result()
        except StorageError:  # the database could not take the turn; Bot.respond logged it as message_failed
            log.error("late_reply_lost: user=%s, the turn failed (message_failed above)", who)
            return
        if reply.text is None:
            return  # nothing to say (an event that needs no reply)
        pause = late_replies.waiting_until(self._db(), key) - time.time()
        if pause > 0:
            time.sleep(pause + WAITER_GRACE_SECONDS)
        if not late_replies.claim_send(self._db(), key, reply.text):
            log.info("late_reply_carried_by_retry: user=%s", who)
            return
        self._send_all(key, who, user_id, reply)

    def _messages(self, who: str, reply: Reply) -> list[Outgoing]:
        """What to send: every page, or what fits in the messages the platform still allows (reserved here)."""
        wanted = self.compose(reply, None)
        if self.window is None or self.send is None:
            return wanted
        granted = self.window.take(who, len(wanted))
        return wanted if granted == len(wanted) else self.compose(reply, granted)[:granted]

    def _send_all(self, key: str, who: str, user_id: str, reply: Reply) -> None:
        """Send every message (one unless the text is too long for one) and record how it went."""
        messages = self._messages(who, reply)
        pages, tries = len(messages), [0]
        try:
            if self.send is None:
                raise SendFailed(self.unconfigured)
            if not messages:
                raise SendRefused(NO_ROOM, "no messages left in the platform's window for this user")
            for message in messages:
                self._send_page(user_id, message, tries)
        except SendRefused as exc:
            attempts = tries[0]
            if self.window is not None and exc.code in WINDOW_SHUT:
                self.window.close(who)  # out of the window or over the count: nothing more until the user acts
            late_replies.record_outcome(
                self._db(), key, "refused", pages=pages, attempts=attempts, error_code=exc.code, error=str(exc)
            )
            log.warning("late_reply_refused: user=%s code=%s attempts=%d", who, exc.code, attempts)
        except SendFailed as exc:
            attempts = tries[0]
            late_replies.record_outcome(self._db(), key, "failed", pages=pages, attempts=attempts, error=str(exc))
            log.warning("late_reply_failed: user=%s reason=%s attempts=%d", who, exc, attempts)
        else:
            attempts = tries[0]
            late_replies.record_outcome(self._db(), key, "sent", pages=pages, attempts=attempts)
            log.info("late_reply_sent: user=%s pages=%d attempts=%d", who, pages, attempts)

    def _send_page(self, user_id: str, message: Outgoing, tries: list[int]) -> None:
        """Send one message, once more after a pause if the platform was busy or unreachable; `tries` counts them."""
        tries[0] += 1
        try:
            self.send(user_id, message)
            return
        except SendRefused as exc:
            if exc.code != BUSY:
                raise
        except SendFailed:
            pass
        time.sleep(RETRY_PAUSE_SECONDS)
        tries[0] += 1
        self.send(user_id, message)
