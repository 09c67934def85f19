"""Records in a real database, SQLite and PostgreSQL: retried deliveries, rate limits, the unanswered report;
and the same promises through the Bot on each engine (Redis holds them with REDIS_URL)."""

import time

import engines
import pytest

from bot import Incoming
from bot.knowledge import DEFAULT_DIR
from bot.knowledge_source import KnowledgeSource
from bot.matching import Policy
from bot.storage import StorageError, open_db, records, transaction
from bot.storage.postgres import PgDatabase

pytestmark = pytest.mark.engines


@pytest.fixture
def connect(engine, tmp_path):
    """Opens a new connection to one empty records database on the engine (PostgreSQL for Redis + PostgreSQL)."""
    if engine == engines.SQLITE:
        yield lambda: open_db(tmp_path / "r.sqlite")
        return
    opened = []
    with engines.fresh_store() as settings:

        def open_pg():
            opened.append(PgDatabase(settings["DATABASE_URL"]))
            return opened[-1]

        yield open_pg
        for database in opened:
            database.close()


@pytest.fixture
def bot(storage):
    bot = engines.bot_on(storage, KnowledgeSource(DEFAULT_DIR, Policy()))
    yield bot
    bot.close()


def test_a_stored_reply_is_found_by_every_connection(connect):
    db = connect()
    assert records.stored_reply(db, "wechat:1") is None
    records.store_reply(db, "wechat:1", {"text": "hi"})
    assert records.stored_reply(connect(), "wechat:1") == {"text": "hi"}


def test_a_turn_that_fails_before_commit_leaves_no_delivery_key(connect):
    """A worker killed mid-turn is the same as this rollback: the retry finds nothing and does the turn again."""
    db = connect()
    with pytest.raises(RuntimeError), transaction(db):
        records.store_reply(db, "wechat:2", {"text": "half-done"})
        raise RuntimeError("worker died")
    assert records.stored_reply(connect(), "wechat:2") is None


def test_an_old_claim_without_a_reply_counts_as_absent(connect):
    db = connect()
    with transaction(db):
        db.execute("INSERT INTO processed_messages (key, at, reply) VALUES ('wechat:3', ?, NULL)", [time.time()])
    assert records.stored_reply(db, "wechat:3") is None
    records.store_reply(db, "wechat:3", {"text": "hi"})
    assert records.stored_reply(db, "wechat:3") == {"text": "hi"}


def test_rate_limit_counts_per_key_within_a_window(connect):
    db = connect()
    assert [records.count_request(db, "ip:a", 2, 60) for _ in range(2)] == [0.0, 0.0]
    assert 0 < records.count_request(db, "ip:a", 2, 60) <= 60
    assert records.count_request(db, "ip:b", 2, 60) == 0.0


def test_a_signed_request_key_keeps_the_content_it_first_came_with(connect):
    db = connect()
    assert records.same_content_as_before(db, "wechat:1:2:sig", "body-a") is True
    assert records.same_content_as_before(db, "wechat:1:2:sig", "body-a") is True
    assert records.same_content_as_before(db, "wechat:1:2:sig", "body-b") is False


def test_a_record_written_twice_under_one_key_is_stored_once(connect):
    """A turn redone after a lost write, or a queue drained by two hosts at once, leaves one row."""
    db = connect()
    row = records.turn_row(
        channel="wechat", user_hash="h", question="q", action="answer", faq_id="f", score=1, region=None, latency_ms=1
    )
    records.write_rows(db, [("turns", "wechat:9:turn", row)])
    records.write_rows(connect(), [("turns", "wechat:9:turn", row), ("turns", None, row)])
    assert [r["faq_id"] for r in db.query("SELECT faq_id FROM turns")] == ["f", "f"]


def test_migrations_are_recorded_and_safe_to_apply_again(engine, connect):
    names = [
        "create_records",
        "create_rate_limits",
        "create_signed_requests",
        "create_shared_values",
        "create_late_replies",
        "add_record_keys",
        "create_operators",
    ]
    db = connect()
    if engine == engines.SQLITE:
        db = connect()
        assert [row["name"] for row in db["_sqlite_migrations"].rows] == names
    else:
        assert db.migrate() == []
        assert db.applied_migrations() == names


def test_a_postgresql_that_cannot_be_reached_is_a_storage_error_with_the_reason():
    db = PgDatabase("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    try:
        with pytest.raises(StorageError, match="PostgreSQL"):
            db.execute("SELECT 1")
    finally:
        db.close()


# Through the Bot, on each engine


def test_the_rate_limit_is_shared_by_two_bots_on_one_store(bot, storage):
    other = engines.bot_on(storage, bot.knowledge)
    try:
        assert [b.allow("203.0.113.9", 3, 60) for b in (bot, other, bot)] == [0.0, 0.0, 0.0]
        assert 0 < other.allow("203.0.113.9", 3, 60) <= 60
        assert bot.allow("203.0.113.10", 3, 60) == 0.0
    finally:
        other.close()


def test_a_replayed_signature_with_other_content_is_noticed_by_another_bot(bot, storage):
    other = engines.bot_on(storage, bot.knowledge)
    try:
        assert bot.same_content_as_before("wechat:1:2:sig", "body-a") is True
        assert other.same_content_as_before("wechat:1:2:sig", "body-a") is True
        assert other.same_content_as_before("wechat:1:2:sig", "body-b") is False
    finally:
        other.close()


def test_shared_values_expire_and_leases_have_one_holder(bot, storage):
    other = engines.bot_on(storage, bot.knowledge)
    try:
        bot.shared_values.set_value("wechat:token", "t-1", 60)
        assert other.shared_values.get_value("wechat:token") == "t-1"
        assert other.shared_values.delete_value("wechat:token", only_if="t-0") is False
        assert other.shared_values.delete_value("wechat:token", only_if="t-1") is True
        assert bot.shared_values.get_value("wechat:token") is None
        bot.shared_values.set_value("short", "v", 0.05)
        time.sleep(0.1)
        assert other.shared_values.get_value("short") is None
        owner = bot.shared_values.take_lease("lease:token", 30)
        assert owner and other.shared_values.take_lease("lease:token", 30) is None
        bot.shared_values.release_lease("lease:token", owner)
        assert other.shared_values.take_lease("lease:token", 30)
    finally:
        other.close()


def test_a_reload_announced_on_one_host_is_heard_once_on_another(bot, storage):
    other = engines.bot_on(storage, bot.knowledge)
    try:
        other.reload_signal.look_every = 0
        assert other.reload_signal.heard() is False  # the first look only learns where things stand
        bot.announce_reload()
        assert other.reload_signal.heard() is True
        assert other.reload_signal.heard() is False
    finally:
        other.close()


def test_the_other_host_reloads_published_files_at_once_without_waiting_for_its_reload_interval(storage, kb_dir):
    source = KnowledgeSource(kb_dir, Policy(), reload_seconds=3600)
    publisher, listener = engines.bot_on(storage, source), engines.bot_on(storage, source)
    try:
        listener.reload_signal.look_every = 0
        listener.respond(Incoming("wechat", "u", text="家庭共济怎么开通"))
        general = kb_dir / "faqs" / "general.yaml"
        text = general.read_text(encoding="utf-8")
        general.write_text(text.replace("医保卡能借给家人用吗？", "医保卡能不能借给家里人用？"), encoding="utf-8")
        time.sleep(1.1)  # files are read once left alone for a moment (editors save in pieces)
        listener.respond(Incoming("wechat", "u", text="你好"))
        assert "医保卡能借给家人用吗？" in faq_titles(source)  # its reload interval has not come round yet
        publisher.announce_reload()
        listener.respond(Incoming("wechat", "u", text="你好"))
        assert source.wait_for_reload(120)
        assert "医保卡能不能借给家里人用？" in faq_titles(source)
    finally:
        publisher.close()
        listener.close()


def faq_titles(source) -> str:
    return " ".join(faq.title for faq in source.current()[0].faqs)


def test_postgresql_alone_holds_state_retries_and_records(engine, tmp_path):
    """DATABASE_URL without REDIS_URL: the per-user state and the retried deliveries live in PostgreSQL too."""
    if engine != engines.SHARED:
        pytest.skip("PostgreSQL only")
    with engines.fresh_store() as settings:
        alone = {"DATABASE": str(tmp_path / "unused.sqlite"), "DATABASE_URL": settings["DATABASE_URL"]}
        first = engines.bot_on(alone, KnowledgeSource(DEFAULT_DIR, Policy()))
        second = engines.bot_on(alone, first.knowledge)
        try:
            assert first.shared is None
            offered = first.respond(Incoming("wechat", "u", text="亲情账户绑定"))
            chosen = second.respond(Incoming("wechat", "u", text="2", message_id="m-1"))
            assert offered.action == "clarify" and chosen.faq_id == offered.options[1].faq_id
            assert first.respond(Incoming("wechat", "u", text="2", message_id="m-1")).text == chosen.text
            assert [row["action"] for row in engines.rows(first, "turns")] == ["clarify", "answer"]
            assert not (tmp_path / "unused.sqlite").exists()
        finally:
            first.close()
            second.close()
