"""The access token against the loopback stand-in of WeChat's API: shared by workers, fetched once, refreshed."""

import threading

import pytest

from bot.delivery import SendRefused
from bot.storage import open_db
from bot.storage.shared import SqlValues
from handlers.wechat_api import ApiError, WeChatApi, call, customer_service
from handlers.wechat_api_standin import WeChatApiStandIn

APP_ID, SECRET = "wx2c2769f8efd9abc2", "test-app-secret"
WORKERS = 8


class Connections:
    """One SQLite connection per thread, like Bot.db: what each worker's client gets."""

    def __init__(self, path):
        self.path, self.local = str(path), threading.local()

    def __call__(self):
        if not hasattr(self.local, "db"):
            self.local.db = open_db(self.path)
        return self.local.db


@pytest.fixture
def standin():
    return WeChatApiStandIn(APP_ID, SECRET)


@pytest.fixture
def base(standin):
    with standin.serve() as address:
        yield address


@pytest.fixture
def database(tmp_path):
    """Created and migrated once, as create_app does before gunicorn starts its workers."""
    path = tmp_path / "bot.sqlite"
    open_db(path)
    return path


def worker(base, database, secret=SECRET) -> WeChatApi:
    """A worker's client: its own object and connections, only the database file shared.

    Workers coordinate through SQLite alone (no lock in memory), so threads stand for processes and hosts.
    """
    return WeChatApi(APP_ID, secret, base, SqlValues(Connections(database)))


def in_parallel(action, count=WORKERS) -> list:
    """Run `action()` in `count` threads released together; their results (or exceptions)."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(index):
        barrier.wait()
        try:
            results[index] = action()
        except Exception as exc:  # collected and asserted on by the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_calls_share_one_token(standin, base, database):
    client = worker(base, database)
    assert client.menu.get() is None  # 46003: no menu yet
    client.menu.delete()
    assert standin.token_fetches == 1


def test_workers_starting_together_fetch_one_token(standin, base, database):
    clients = [worker(base, database) for _ in range(WORKERS)]
    pending = iter(clients)
    lock = threading.Lock()

    def one_call():
        with lock:
            client = next(pending)
        return client.menu.delete()

    results = in_parallel(one_call)
    assert all(r == {"errcode": 0, "errmsg": "ok"} for r in results), results
    assert standin.token_fetches == 1


def test_an_expired_token_is_refreshed_and_the_call_succeeds(standin, base, database):
    client = worker(base, database)
    client.menu.delete()
    standin.expire_tokens()
    assert client.menu.delete() == {"errcode": 0, "errmsg": "ok"}
    assert standin.token_fetches == 2


def test_an_expiry_seen_by_every_worker_at_once_is_one_fetch(standin, base, database):
    worker(base, database).menu.delete()
    standin.expire_tokens()
    clients = iter([worker(base, database) for _ in range(WORKERS)])
    lock = threading.Lock()

    def one_call():
        with lock:
            client = next(clients)
        return client.menu.delete()

    results = in_parallel(one_call)
    assert all(r == {"errcode": 0, "errmsg": "ok"} for r in results), results
    assert standin.token_fetches == 2


def test_a_token_another_deployment_replaced_is_refreshed(standin, base, database, tmp_path):
    ours = worker(base, database)
    ours.menu.delete()
    elsewhere = tmp_path / "elsewhere.sqlite"
    open_db(elsewhere)
    worker(base, elsewhere).menu.delete()  # a second deployment fetches: ours is now 40001
    assert ours.menu.delete() == {"errcode": 0, "errmsg": "ok"}
    assert standin.token_fetches == 3


def test_a_token_refused_again_after_refreshing_is_not_retried_forever(standin, base, database):
    client = worker(base, database)
    standin.fail_next("menu/delete", 40001, "invalid credential")
    standin.fail_next("menu/delete", 40001, "invalid credential")
    with pytest.raises(ApiError) as refused:
        call(client.menu.delete)
    assert refused.value.code == 40001
    assert standin.token_fetches == 2


def test_the_token_is_stored_to_be_refreshed_before_wechats_expiry(base, database):
    worker(base, database).menu.delete()
    (remaining,) = (
        open_db(database)
        .execute("SELECT expires_at - strftime('%s','now') FROM shared_values WHERE key LIKE 'wechat:%access_token'")
        .fetchone()
    )
    assert 7200 - 300 - 5 < remaining <= 7200 - 300 + 1


@pytest.mark.parametrize(
    ("setup", "code", "hint"),
    [
        (lambda s: setattr(s, "ip_allowed", False), 40164, "IP白名单"),
        (lambda s: setattr(s, "secret", "another"), 40125, "WECHAT_APP_SECRET"),
    ],
)
def test_a_refused_token_fetch_names_what_to_fix(standin, base, database, setup, code, hint):
    setup(standin)
    with pytest.raises(ApiError) as refused:
        call(worker(base, database).menu.get)
    assert refused.value.code == code and hint in str(refused.value)


def test_an_unreachable_server_is_an_api_error_without_a_code(database):
    with pytest.raises(ApiError) as failed:
        call(worker("http://127.0.0.1:9", database).menu.get)
    assert failed.value.code is None


def test_the_official_account_and_the_mini_program_keep_their_own_tokens(standin, base, database):
    mini = WeChatApiStandIn("wxminiprogram0001", "mini-secret")
    with mini.serve() as mini_base:
        official = worker(base, database)
        program = WeChatApi(
            "wxminiprogram0001", "mini-secret", mini_base, SqlValues(Connections(database)), prefix="miniprogram"
        )
        official.menu.delete()
        program.menu.delete()
        mini.expire_tokens()
        program.menu.delete()  # the mini-program fetches a new token of its own …
        official.menu.delete()  # … and the official account's still works
    assert (standin.token_fetches, mini.token_fetches) == (1, 2)
    keys = {row[0] for row in open_db(database).execute("SELECT key FROM shared_values")}
    assert {f"wechat:{APP_ID}_access_token", "miniprogram:wxminiprogram0001_access_token"} <= keys


def test_the_standin_allows_5_messages_after_a_users_message_and_2_after_they_open_the_chat(standin, base, database):
    send = customer_service(worker(base, database))
    with pytest.raises(SendRefused) as never_wrote:
        send("o_quiet", "你好")
    assert never_wrote.value.code == 45015
    standin.user_wrote("o_writer")
    for n in range(5):
        send("o_writer", f"第{n}条")
    with pytest.raises(SendRefused) as sixth:
        send("o_writer", "第6条")
    assert sixth.value.code == 45047
    standin.user_entered("o_visitor")
    send("o_visitor", "1")
    send("o_visitor", "2")
    with pytest.raises(SendRefused) as third:
        send("o_visitor", "3")
    assert third.value.code == 45047
    standin.user_wrote("o_late", seconds_ago=49 * 3600)
    with pytest.raises(SendRefused) as late:
        send("o_late", "你好")
    assert late.value.code == 45015
