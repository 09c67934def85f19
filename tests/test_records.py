"""Records in a real SQLite file: retried deliveries, rate limits, the unanswered report."""

import time

import pytest

from bot.storage import open_db, records, transaction


def test_a_stored_reply_is_found_by_every_connection(tmp_path):
    db = open_db(tmp_path / "r.sqlite")
    assert records.stored_reply(db, "wechat:1") is None
    records.store_reply(db, "wechat:1", {"text": "hi"})
    assert records.stored_reply(open_db(tmp_path / "r.sqlite"), "wechat:1") == {"text": "hi"}


def test_a_turn_that_fails_before_commit_leaves_no_delivery_key(tmp_path):
    """A worker killed mid-turn is the same as this rollback: the retry finds nothing and does the turn again."""
    db = open_db(tmp_path / "r.sqlite")
    with pytest.raises(RuntimeError), transaction(db):
        records.store_reply(db, "wechat:2", {"text": "half-done"})
        raise RuntimeError("worker died")
    assert records.stored_reply(open_db(tmp_path / "r.sqlite"), "wechat:2") is None


def test_an_old_claim_without_a_reply_counts_as_absent(tmp_path):
    db = open_db(tmp_path / "r.sqlite")
    with transaction(db):
        db.execute("INSERT INTO processed_messages (key, at, reply) VALUES ('wechat:3', ?, NULL)", [time.time()])
    assert records.stored_reply(db, "wechat:3") is None
    records.store_reply(db, "wechat:3", {"text": "hi"})
    assert records.stored_reply(db, "wechat:3") == {"text": "hi"}


def test_rate_limit_counts_per_key_within_a_window(tmp_path):
    db = open_db(tmp_path / "r.sqlite")
    assert [records.count_request(db, "ip:a", 2, 60) for _ in range(2)] == [0.0, 0.0]
    assert 0 < records.count_request(db, "ip:a", 2, 60) <= 60
    assert records.count_request(db, "ip:b", 2, 60) == 0.0


def test_migrations_are_recorded_and_safe_to_apply_again(tmp_path):
    open_db(tmp_path / "r.sqlite")
    db = open_db(tmp_path / "r.sqlite")
    names = [row["name"] for row in db["_sqlite_migrations"].rows]
    assert names == [
        "create_records",
        "create_rate_limits",
        "create_signed_requests",
        "create_shared_values",
        "create_late_replies",
        "add_record_keys",
    ]


def test_a_signed_request_key_keeps_the_content_it_first_came_with(tmp_path):
    db = open_db(tmp_path / "r.sqlite")
    assert records.same_content_as_before(db, "wechat:1:2:sig", "body-a") is True
    assert records.same_content_as_before(db, "wechat:1:2:sig", "body-a") is True
    assert records.same_content_as_before(db, "wechat:1:2:sig", "body-b") is False
