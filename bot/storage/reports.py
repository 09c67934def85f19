"""What the operators' dashboard and unanswered list read from the records: counts by day, FAQ and channel.

Portable SQL: the records are in SQLite, or in PostgreSQL for several hosts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

#: The turns that are questions (not commands, pages, small talk): the ones answered, asked back or fallen back on.
QUESTION_ACTIONS = ("answer", "clarify", "fallback")
#: A reply this short right after an ask-back picked an option ("1", "第二个"); anything else rejected it.
CHOICE_CHARACTERS = 4


def _count_if(condition: str) -> str:
    """Rows meeting `condition`, in SQL both SQLite and PostgreSQL take (PostgreSQL cannot SUM a boolean)."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


_COUNT_ANSWERED = _count_if("action = 'answer'")
_COUNT_CLARIFIED = _count_if("action = 'clarify'")
_COUNT_FELL_BACK = _count_if("action = 'fallback'")


def since(days: int) -> str:
    """The ISO timestamp `days` days ago, for the `at` columns."""
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


def questions_by_day(db: Database, days: int) -> list[dict]:
    """Per day: questions, and how many were answered, asked back and fallen back on."""
    return list(
        db.query(
            "SELECT substr(at, 1, 10) AS day, COUNT(*) AS questions, "
            f"{_COUNT_ANSWERED} AS answered, {_COUNT_CLARIFIED} AS clarified, {_COUNT_FELL_BACK} AS fell_back "
            "FROM turns WHERE at >= ? AND action IN ('answer', 'clarify', 'fallback') GROUP BY day ORDER BY day",
            [since(days)],
        )
    )


def feedback_by_day(db: Database, days: int) -> list[dict]:
    """Per day: how many 有用 and 没用."""
    return list(
        db.query(
            "SELECT substr(at, 1, 10) AS day, SUM(helpful) AS helpful, SUM(1 - helpful) AS unhelpful "
            "FROM feedback WHERE at >= ? GROUP BY day ORDER BY day",
            [since(days)],
        )
    )


def top_faqs(db: Database, days: int, limit: int = 10) -> list[dict]:
    """The FAQs answered most often, with their 有用 and 没用."""
    return list(
        db.query(
            "SELECT t.faq_id, t.answers, COALESCE(f.helpful, 0) AS helpful, COALESCE(f.unhelpful, 0) AS unhelpful "
            "FROM (SELECT faq_id, COUNT(*) AS answers FROM turns WHERE at >= ? AND action = 'answer' "
            "GROUP BY faq_id) AS t LEFT JOIN (SELECT faq_id, SUM(helpful) AS helpful, SUM(1 - helpful) AS unhelpful "
            "FROM feedback WHERE at >= ? GROUP BY faq_id) AS f ON f.faq_id = t.faq_id "
            "ORDER BY t.answers DESC, t.faq_id LIMIT ?",
            [since(days), since(days), limit],
        )
    )


def questions_by_channel(db: Database, days: int) -> list[dict]:
    """How many questions came through each channel (wechat, api …)."""
    return list(
        db.query(
            "SELECT channel, COUNT(*) AS questions FROM turns "
            "WHERE at >= ? AND action IN ('answer', 'clarify', 'fallback') GROUP BY channel ORDER BY questions DESC",
            [since(days)],
        )
    )


def unanswered_questions(db: Database, days: int) -> list[dict]:
    """Fallbacks, and ask-backs the user did not answer by picking an option, each with when and the closest FAQ."""
    fallbacks = db.query(
        "SELECT question, at, best_faq_id, 'fallback' AS kind FROM unanswered WHERE at >= ?", [since(days)]
    )
    rejected = db.query(
        "SELECT question, at, NULL AS best_faq_id, 'rejected ask-back' AS kind FROM ("
        "  SELECT question, at, action, LEAD(action) OVER w AS next_action, LEAD(question) OVER w AS next_question"
        "  FROM turns WHERE at >= ? WINDOW w AS (PARTITION BY channel, user_hash ORDER BY id)"
        ") AS followed WHERE action = 'clarify' "
        "AND NOT COALESCE(next_action = 'answer' AND length(next_question) <= ?, FALSE)",
        [since(days), CHOICE_CHARACTERS],
    )
    return [*fallbacks, *rejected]
