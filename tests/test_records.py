"""Records in a real SQLite file: retried deliveries, rate limits, the unanswered report."""

import time

from bot.storage import open_db, records


def test_a_delivery_is_claimed_once(tmp_path):
    db = open_db(tmp_path / "r.sqlite")
    assert records.claim_message(db, "wechat:1") is True
    assert records.claim_message(open_db(tmp_path / "r.sqlite"), "wechat:1") is False


def test_a_retry_takes_over_the_claim_of_a_worker_that_died(tmp_path):
    db = open_db(tmp_path / "r.sqlite")
    records.claim_message(db, "wechat:2")
    with db.conn:
        db.execute("UPDATE processed_messages SET at = ? WHERE key = 'wechat:2'", [time.time() - 60])
    assert records.claim_message(db, "wechat:2") is True


def test_an_answered_claim_is_never_taken_over(tmp_path):
    db = open_db(tmp_path / "r.sqlite")
    records.claim_message(db, "wechat:3")
    records.store_reply(db, "wechat:3", {"text": "hi"})
    with db.conn:
        db.execute("UPDATE processed_messages SET at = ? WHERE key = 'wechat:3'", [time.time() - 60])
    assert records.claim_message(db, "wechat:3") is False
    assert records.wait_for_reply(db, "wechat:3", timeout=0) == {"text": "hi"}


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
    ]


def test_a_signed_request_key_keeps_the_content_it_first_came_with(tmp_path):
    db = open_db(tmp_path / "r.sqlite")
    assert records.same_content_as_before(db, "wechat:1:2:sig", "body-a") is True
    assert records.same_content_as_before(db, "wechat:1:2:sig", "body-a") is True
    assert records.same_content_as_before(db, "wechat:1:2:sig", "body-b") is False
