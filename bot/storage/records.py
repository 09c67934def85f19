"""What happened, for operators: turns, unanswered questions, feedback; and retried messages, answered once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from sqlite_utils import Database

from . import transaction


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


#: The columns of each record table a turn writes; `record_key` makes writing the same row twice harmless.
RECORD_COLUMNS = {
    "turns": ("at", "channel", "user_hash", "question", "action", "faq_id", "score", "region", "latency_ms"),
    "unanswered": ("at", "channel", "user_hash", "question", "score", "best_faq_id"),
    "feedback": ("at", "channel", "user_hash", "faq_id", "helpful"),
}


def turn_row(
    *,
    channel: str,
    user_hash: str,
    question: str,
    action: str,
    faq_id: str | None,
    score: float,
    region: str | None,
    latency_ms: float,
) -> dict:
    """One row per message the bot answered; the question must already be masked."""
    return {
        "at": _now(),
        "channel": channel,
        "user_hash": user_hash,
        "question": question,
        "action": action,
        "faq_id": faq_id,
        "score": round(score, 4),
        "region": region,
        "latency_ms": round(latency_ms, 2),
    }


def unanswered_row(*, channel: str, user_hash: str, question: str, score: float, best_faq_id: str | None) -> dict:
    """A question the bot fell back on, for the operators' list of what to add."""
    return {
        "at": _now(),
        "channel": channel,
        "user_hash": user_hash,
        "question": question,
        "score": round(score, 4),
        "best_faq_id": best_faq_id,
    }


def feedback_row(*, channel: str, user_hash: str, faq_id: str, helpful: bool) -> dict:
    """A 有用/没用, typed or from a button."""
    return {"at": _now(), "channel": channel, "user_hash": user_hash, "faq_id": faq_id, "helpful": int(helpful)}


def write_rows(db, rows: list[tuple[str, str | None, dict]]) -> None:
    """Insert (table, record_key, row) records in one transaction; a key already stored is left as it is."""
    if len(rows) == 1 and not isinstance(db, Database):  # PostgreSQL: one statement is atomic, no BEGIN/COMMIT
        _insert(db, *rows[0])
        return
    with transaction(db):
        for row in rows:
            _insert(db, *row)


def _insert(db, table: str, record_key: str | None, row: dict) -> None:
    columns = RECORD_COLUMNS[table]
    db.execute(
        f"INSERT INTO {table} ({', '.join(columns)}, record_key) "
        f"VALUES ({', '.join('?' for _ in columns)}, ?) ON CONFLICT (record_key) DO NOTHING",
        [*(row.get(column) for column in columns), record_key],
    )


def record_feedback(db, *, channel: str, user_hash: str, faq_id: str, helpful: bool) -> None:
    """A 有用/没用 from a button, written at once."""
    row = feedback_row(channel=channel, user_hash=user_hash, faq_id=faq_id, helpful=helpful)
    write_rows(db, [("feedback", None, row)])


def stored_reply(db, key: str) -> dict | None:
    """The reply already given to a delivery key (WeChat retries up to 3 times), or None for a new message.

    Claim, turn and reply are written in one transaction, so a key is either answered or absent: a worker
    that dies mid-turn leaves nothing behind, and the retry does the turn again.
    """
    row = db.execute("SELECT reply FROM processed_messages WHERE key = ?", [key]).fetchone()
    return json.loads(row[0]) if row and row[0] is not None else None


def store_reply(db, key: str, reply: dict) -> None:
    """Keep the reply under its delivery key, for the retries."""
    with transaction(db):
        db.execute(
            "INSERT INTO processed_messages (key, at, reply) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET at = excluded.at, reply = excluded.reply",
            [key, time.time(), json.dumps(reply, ensure_ascii=False)],
        )


def same_content_as_before(db, key: str, fingerprint: str) -> bool:
    """Remember what a signed request carried; False if the same signature came before with other content."""
    with transaction(db):
        db.execute(
            "INSERT INTO signed_requests (key, at, fingerprint) VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING",
            [key, time.time(), fingerprint],
        )
        row = db.execute("SELECT fingerprint FROM signed_requests WHERE key = ?", [key]).fetchone()
    return row[0] == fingerprint


def forget_before(db, cutoff: float) -> None:
    """Drop delivery keys, signed-request fingerprints and rate-limit windows older than anyone could need."""
    with transaction(db):
        db.execute("DELETE FROM processed_messages WHERE at < ?", [cutoff])
        db.execute("DELETE FROM signed_requests WHERE at < ?", [cutoff])
        db.execute("DELETE FROM rate_limits WHERE window_start < ?", [cutoff])


def unanswered_summary(db, limit: int = 50) -> list[dict]:
    """The questions most often left unanswered, newest first among equals."""
    return list(
        db.query(
            "SELECT question, COUNT(*) AS times, MAX(at) AS last_asked, MAX(best_faq_id) AS closest_faq "
            "FROM unanswered GROUP BY question ORDER BY times DESC, last_asked DESC LIMIT ?",
            [limit],
        )
    )


def count_request(db, key: str, limit: int, window: float) -> float:
    """Fixed-window rate limit shared by every worker: 0 if allowed, else seconds until the window ends."""
    now = time.time()
    start = now - now % window
    with transaction(db):
        db.execute(
            "INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, 1) "
            "ON CONFLICT(key) DO UPDATE SET hits = CASE WHEN rate_limits.window_start = excluded.window_start "
            "THEN rate_limits.hits + 1 ELSE 1 END, window_start = excluded.window_start",
            [key, start],
        )
        hits = db.execute("SELECT hits FROM rate_limits WHERE key = ?", [key]).fetchone()[0]
    return 0.0 if hits <= limit else max(start + window - now, 0.001)


def feedback_summary(db) -> list[dict]:
    """Per FAQ: how often users said 有用 and 没用, the most disliked first."""
    return list(
        db.query(
            "SELECT faq_id, SUM(helpful) AS helpful, SUM(1 - helpful) AS unhelpful, MAX(at) AS last_at "
            "FROM feedback GROUP BY faq_id ORDER BY unhelpful DESC, helpful ASC, faq_id"
        )
    )
