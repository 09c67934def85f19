"""Writers racing on the real engines, SQLite and PostgreSQL: the mini-program's send window and the console's
lock-out counter neither lose an update nor hand out more than there is."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import engines
import pytest

from bot.send_window import Allowance, SendWindow
from bot.storage import operators

pytestmark = pytest.mark.engines

#: Threads racing at once; below the PostgreSQL pool's size, so none waits for a connection instead of a lock.
THREADS = 8


@pytest.fixture
def bot(storage):
    """A bot on the engine: the records database every thread (each with its own SQLite connection) writes."""
    bot = engines.bot_on(storage, knowledge=None)
    yield bot
    bot.close()


def race(work, threads: int = THREADS) -> list:
    """Run `work(n)` in `threads` threads released at the same moment; their results."""
    start = threading.Barrier(threads)

    def run(number):
        start.wait()
        return work(number)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(threads)))


def test_sends_at_once_never_take_more_than_the_window_allows(bot):
    window = SendWindow(lambda: bot.records_db, "miniprogram")
    for user in range(5):
        who = f"user-{user}"
        window.opened(who, Allowance(messages=5, seconds=3600))
        granted = race(lambda _, who=who: sum(window.take(who, 1) for _ in range(3)))
        assert sum(granted) == 5, granted
        assert window.left(who) == 0


def test_the_last_message_goes_to_one_sender_only(bot):
    window = SendWindow(lambda: bot.records_db, "miniprogram")
    for user in range(5):
        who = f"user-{user}"
        window.opened(who, Allowance(messages=1, seconds=60))
        assert sorted(race(lambda _, who=who: window.take(who, 1))) == [0] * (THREADS - 1) + [1]


def test_wrong_passwords_at_once_are_each_counted(bot):
    operators.save_operator(bot.records_db, "ann", "not a real hash", "editor")
    race(lambda _: [operators.count_failed_login(bot.records_db, "ann", 1000, 60) for _ in range(5)])
    assert operators.find_operator(bot.records_db, "ann")["failed_logins"] == THREADS * 5


def test_wrong_passwords_at_once_lock_the_account_exactly_at_the_limit(bot):
    operators.save_operator(bot.records_db, "ann", "not a real hash", "editor")
    locked = race(lambda _: operators.count_failed_login(bot.records_db, "ann", THREADS, 60))
    assert any(locked)
    assert operators.find_operator(bot.records_db, "ann")["failed_logins"] == 0  # the limit reached, counted from 0
