"""The schema, one function per change; `migrations.apply(db)` is safe at every start."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("faqbot")


@migrations()
def create_records(db: Database) -> None:
    """Turns, questions the bot could not answer, feedback, retried WeChat messages and user sessions."""
    db["turns"].create(
        {
            "id": int,
            "at": str,
            "channel": str,
            "user_hash": str,
            "question": str,
            "action": str,
            "faq_id": str,
            "score": float,
            "region": str,
            "latency_ms": float,
        },
        pk="id",
        if_not_exists=True,
    )
    db["turns"].create_index(["at"], if_not_exists=True)
    db["turns"].create_index(["faq_id"], if_not_exists=True)
    db["unanswered"].create(
        {"id": int, "at": str, "channel": str, "user_hash": str, "question": str, "score": float, "best_faq_id": str},
        pk="id",
        if_not_exists=True,
    )
    db["unanswered"].create_index(["at"], if_not_exists=True)
    db["feedback"].create(
        {"id": int, "at": str, "channel": str, "user_hash": str, "faq_id": str, "helpful": int},
        pk="id",
        if_not_exists=True,
    )
    db["feedback"].create_index(["faq_id"], if_not_exists=True)
    db["processed_messages"].create({"key": str, "at": float, "reply": str}, pk="key", if_not_exists=True)
    db["sessions"].create({"key": str, "state": str, "updated_at": float}, pk="key", if_not_exists=True)


@migrations()
def create_rate_limits(db: Database) -> None:
    """Request counts per client and time window, shared by every worker."""
    db["rate_limits"].create({"key": str, "window_start": float, "hits": int}, pk="key", if_not_exists=True)


@migrations()
def create_signed_requests(db: Database) -> None:
    """Each signed request's body fingerprint: the same signature may not carry another body."""
    db["signed_requests"].create({"key": str, "at": float, "fingerprint": str}, pk="key", if_not_exists=True)
