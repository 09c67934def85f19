"""How many messages a platform still lets us send a user, and until when, remembered for every worker.

WeChat lets a mini-program answer a user through its customer-service API only after they did something, and
only so often: 5 messages in the 48 hours after their message, 2 in the minute after they open the chat. The
allowances do not add up: each action raises what is left to its own count and the deadline to its own length
when those are larger (WeChat's 客服消息下发条件). Sending more is refused (45047), so the sender asks first.

Each change reads and writes the user's row in one transaction holding its lock (BEGIN IMMEDIATE on SQLite,
SELECT … FOR UPDATE on PostgreSQL): two sends at once, from two workers or two hosts, never both take the last message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database

from .storage import shared, transaction


@dataclass(frozen=True)
class Allowance:
    """What one action of the user allows: `messages` within `seconds`."""

    messages: int
    seconds: float


class SendWindow:
    """Messages left per user (by user hash), in the shared store under `<name>:window:<hash>`."""

    def __init__(self, db: Callable[[], Database], name: str):
        self._db = db
        self.name = name

    def opened(self, who: str, allowance: Allowance) -> None:
        """The user did something that allows `allowance`; what is left never shrinks by it."""
        db = self._db()
        with transaction(db):
            left, until = self._read(db, who, lock=True)
            now = time.time()
            self._write(db, who, max(left, allowance.messages), max(until, now + allowance.seconds))

    def left(self, who: str) -> int:
        return self._read(self._db(), who)[0]

    def take(self, who: str, wanted: int) -> int:
        """Reserve up to `wanted` messages; how many may be sent (0 when the window is closed or spent)."""
        db = self._db()
        with transaction(db):
            left, until = self._read(db, who, lock=True)
            granted = min(left, wanted)
            if granted:
                self._write(db, who, left - granted, until)
        return granted

    def close(self, who: str) -> None:
        """The platform refused a message (out of the window, over the count): nothing more until the user acts."""
        db = self._db()
        with transaction(db):
            _, until = self._read(db, who, lock=True)
            self._write(db, who, 0, until)

    def _key(self, who: str) -> str:
        return f"{self.name}:window:{who}"

    def _read(self, db: Database, who: str, lock: bool = False) -> tuple[int, float]:
        value = shared.get_value(db, self._key(who), lock)
        if value is None:
            return 0, 0.0
        left, until = value.split()
        return int(left), float(until)

    def _write(self, db: Database, who: str, left: int, until: float) -> None:
        life = until - time.time()
        if life > 0:
            shared.set_value(db, self._key(who), f"{left} {until}", life)
