"""Per-user conversation state in the database (Redis has its own, bot.storage.redis_state): any worker answers."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from .storage import transaction


@dataclass
class State:
    """What the bot remembers between two messages of one user."""

    options: list[str] = field(default_factory=list)  # FAQ ids offered as numbered choices
    pages: list[str] = field(default_factory=list)  # the rest of a long answer, for "更多"
    region: str | None = None  # province-level short name
    place: str | None = None  # the city or province as the user named it
    last_faq_id: str | None = None  # for 有用/没用 and for a region named after an answer
    after_fallback: bool = False  # the last reply was a fallback: 没用 now means "let me talk to a person"
    relatives: list[str] = field(default_factory=list)  # relation words of the question the options answer


def state_from_json(text: str | None) -> State:
    """The stored state; a fresh one for a user never seen or a record this version cannot read."""
    if not text:
        return State()
    try:
        return State(**json.loads(text))
    except (TypeError, ValueError):
        return State()


def state_to_json(state: State) -> str:
    return json.dumps(vars(state), ensure_ascii=False)  # flat fields: no need for asdict's deep copy


class SessionStore:
    """State per user key; after `ttl` seconds of silence a user starts afresh."""

    def __init__(self, ttl: float):
        self.ttl = ttl

    def load(self, db, key: str) -> tuple[State, float | None]:
        """The user's state and its version (None for a user never seen), for `save` to check."""
        row = db.execute("SELECT state, updated_at FROM sessions WHERE key = ?", [key]).fetchone()
        if row is None:
            return State(), None
        if time.time() - row[1] > self.ttl:
            return State(), row[1]
        return state_from_json(row[0]), row[1]

    def save(self, db, key: str, state: State, version: float | None) -> bool:
        """Store the state unless another message of the same user saved first (then False: redo the turn)."""
        text, now = state_to_json(state), time.time()
        with transaction(db):
            if version is None:
                cursor = db.execute(
                    "INSERT INTO sessions (key, state, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING",
                    [key, text, now],
                )
            else:
                cursor = db.execute(
                    "UPDATE sessions SET state = ?, updated_at = ? WHERE key = ? AND updated_at = ?",
                    [text, now, key, version],
                )
        return cursor.rowcount == 1

    def expire(self, db) -> None:
        with transaction(db):
            db.execute("DELETE FROM sessions WHERE updated_at < ?", [time.time() - self.ttl])
