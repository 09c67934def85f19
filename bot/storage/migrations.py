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


@migrations()
def create_shared_values(db: Database) -> None:
    """Values every worker shares with an expiry (the WeChat access token) and short leases (who fetches it)."""
    db["shared_values"].create({"key": str, "value": str, "expires_at": float}, pk="key", if_not_exists=True)


@migrations()
def create_late_replies(db: Database) -> None:
    """Replies that missed WeChat's 5-second window: who delivered each, and how sending it went."""
    db["late_replies"].create(
        {
            "key": str,
            "at": str,
            "channel": str,
            "user_hash": str,
            "state": str,
            "waiting_until": float,
            "text": str,
            "pages": int,
            "attempts": int,
            "error_code": int,
            "error": str,
            "done_at": str,
        },
        pk="key",
        defaults={"attempts": 0, "waiting_until": 0.0},
        if_not_exists=True,
    )
    db["late_replies"].create_index(["at"], if_not_exists=True)


@migrations()
def add_record_keys(db: Database) -> None:
    """A key per record row, so a record written twice (a redone turn, a drained queue) is stored once."""
    for table in ("turns", "unanswered", "feedback"):
        if "record_key" not in db[table].columns_dict:
            db[table].add_column("record_key", str)
        db[table].create_index(["record_key"], unique=True, if_not_exists=True)


@migrations()
def create_operators(db: Database) -> None:
    """The console's accounts, its audit log, and unanswered questions an operator marked out of scope."""
    db["operators"].create(
        {
            "name": str,
            "password_hash": str,
            "role": str,
            "created_at": str,
            "failed_logins": int,
            "locked_until": float,
        },
        pk="name",
        defaults={"failed_logins": 0, "locked_until": 0.0},
        if_not_exists=True,
    )
    db["audit_log"].create(
        {"id": int, "at": str, "operator": str, "action": str, "target": str, "detail": str},
        pk="id",
        if_not_exists=True,
    )
    db["audit_log"].create_index(["at"], if_not_exists=True)
    db["dismissed_questions"].create({"question": str, "at": str, "operator": str}, pk="question", if_not_exists=True)
