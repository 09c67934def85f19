"""Late replies: a turn past WeChat's 5 seconds is answered `success`, then delivered once as a 客服 message.

WeChat is played twice over: WeChatUser posts the messages (wechatpy crypto), the loopback stand-in of
WeChat's API server receives the customer-service messages. The bot, knowledge base and SQLite are real.
"""

import hashlib
import threading
import time
from concurrent.futures import Future

import pytest
from wechat_user import APP_ID, SlowBot, WeChatUser, eventually, wechat_config

import bot.delivery
from app import create_app
from bot.delivery import LateReplies
from bot.messages import Incoming, Reply
from bot.privacy import user_hash
from bot.storage import late_replies
from handlers.wechat_api import customer_service
from handlers.wechat_api_standin import WeChatApiStandIn

SECRET = "late-test-secret"
pytestmark = pytest.mark.engines

QUESTION, ANSWER = "家庭共济怎么开通", "国家医保服务平台"


@pytest.fixture(scope="module")
def standin():
    return WeChatApiStandIn(APP_ID, SECRET)


@pytest.fixture(scope="module")
def late_app(standin, module_storage):
    with standin.serve() as base:
        app = create_app(wechat_config(**module_storage, WECHAT_APP_SECRET=SECRET, WECHAT_API_BASE=base))
        app.extensions["knowledge"].current()  # the matcher is built now, not inside a timed turn
        yield app
        app.extensions["bot"].close()


@pytest.fixture
def user(late_app, standin, request):
    follower = WeChatUser(late_app.test_client(), "o_" + hashlib.sha1(request.node.nodeid.encode()).hexdigest())
    standin.user_wrote(follower.openid)  # WeChat saw their message: the 48-hour window is open
    return follower


@pytest.fixture
def slow(late_app, monkeypatch):
    """Turns wait for `slow.gate`; requests give up after 0.3 s instead of 4.5 (one test keeps WeChat's timing)."""
    slow_bot = SlowBot(late_app.extensions["bot"])
    monkeypatch.setitem(late_app.extensions, "bot", slow_bot)
    monkeypatch.setitem(late_app.config, "WECHAT_REPLY_TIMEOUT", 0.3)
    yield slow_bot
    slow_bot.gate.set()


def sent_to(standin, user) -> list[str]:
    return [text for openid, text in standin.sent if openid == user.openid]


def record_of(app, user) -> dict | None:
    """The user's late-reply record, as operators see it."""
    db = app.extensions["late_replies"]._db()
    who = user_hash(app.config["USER_HASH_SALT"], "wechat", user.openid)
    rows = list(db.query("SELECT * FROM late_replies WHERE user_hash = ?", [who]))
    assert len(rows) <= 1
    return rows[0] if rows else None


def test_a_slow_turn_is_answered_success_within_5_s_and_delivered_once(late_app, standin, user, monkeypatch):
    slow_bot = SlowBot(late_app.extensions["bot"], delay=4.8)  # WeChat's own timing: WECHAT_REPLY_TIMEOUT 4.5
    monkeypatch.setitem(late_app.extensions, "bot", slow_bot)
    started = time.monotonic()
    assert user.send(QUESTION, msg_id=6054768590064720001).content is None
    assert time.monotonic() - started < 5 and user.response.data == b"success"
    assert sent_to(standin, user) == []
    (message,) = eventually(lambda: sent_to(standin, user))
    assert ANSWER in message and "以参保地医保部门规定为准" in message  # the same text a reply in time carries
    record = eventually(lambda: (r := record_of(late_app, user)) and r["state"] == "sent" and r)
    assert (record["pages"], record["attempts"], record["error_code"]) == (1, 1, None)
    assert ANSWER in record["text"]


def test_a_retry_after_the_reply_was_sent_gets_success_and_no_duplicate(late_app, standin, user, slow):
    assert user.send(QUESTION, msg_id=6054768590064720002).content is None
    slow.gate.set()
    eventually(lambda: sent_to(standin, user))
    assert user.send(QUESTION, msg_id=6054768590064720002).content is None
    assert user.response.data == b"success"
    assert len(sent_to(standin, user)) == 1


def test_a_retry_waiting_when_the_answer_is_ready_gets_it_directly_and_nothing_is_sent(late_app, standin, user, slow):
    assert user.send(QUESTION, msg_id=6054768590064720003).content is None
    late_app.config["WECHAT_REPLY_TIMEOUT"] = 1.0
    retry = {}
    thread = threading.Thread(target=lambda: retry.update(reply=user.send(QUESTION, msg_id=6054768590064720003)))
    thread.start()
    eventually(lambda: (r := record_of(late_app, user)) and r["waiting_until"] > time.time())
    slow.gate.set()
    thread.join()
    assert ANSWER in retry["reply"].content
    time.sleep(1.0 + bot.delivery.WAITER_GRACE_SECONDS)  # past the retry's deadline: the sender has decided
    assert sent_to(standin, user) == []
    assert record_of(late_app, user)["state"] == "passive"


def test_a_refused_late_reply_is_recorded_and_a_retry_still_carries_it(late_app, standin, user, slow):
    standin.last_message_at[user.openid] = time.time() - 49 * 3600  # their last message is 49 hours old
    assert user.send(QUESTION, msg_id=6054768590064720004).content is None
    slow.gate.set()
    record = eventually(lambda: (r := record_of(late_app, user)) and r["state"] == "refused" and r)
    assert record["error_code"] == 45015 and ANSWER in record["text"] and record["attempts"] == 1
    listed = late_app.test_cli_runner().invoke(args=["wechat", "late"]).output
    assert "refused 45015" in listed and "48 hours" in listed
    assert ANSWER in user.send(QUESTION, msg_id=6054768590064720004).content  # nothing lost
    assert record_of(late_app, user)["state"] == "passive" and sent_to(standin, user) == []


def test_a_busy_platform_and_an_expired_token_are_retried(late_app, standin, user, slow, monkeypatch):
    monkeypatch.setattr(bot.delivery, "RETRY_PAUSE_SECONDS", 0.05)
    standin.expire_tokens()
    standin.fail_next("message/custom/send", -1, "system error")
    fetched = standin.token_fetches
    assert user.send(QUESTION, msg_id=6054768590064720005).content is None
    slow.gate.set()
    record = eventually(lambda: (r := record_of(late_app, user)) and r["state"] == "sent" and r)
    assert record["attempts"] == 2 and len(sent_to(standin, user)) == 1
    assert standin.token_fetches == fetched + 1


def test_without_the_customer_service_api_the_reply_waits_for_a_retry(late_app, user, slow, monkeypatch):
    monkeypatch.setattr(late_app.extensions["late_replies"], "send", None)  # as when WECHAT_APP_SECRET is empty
    assert user.send(QUESTION, msg_id=6054768590064720006).content is None
    slow.gate.set()
    record = eventually(lambda: (r := record_of(late_app, user)) and r["state"] == "failed" and r)
    assert "WECHAT_APP_SECRET" in record["error"]
    assert ANSWER in user.send(QUESTION, msg_id=6054768590064720006).content


def test_a_long_late_reply_goes_out_in_pages_that_each_fit(late_app, standin, engine):
    follower = f"o_long_{engine}"  # the stand-in is shared by the module's runs on each engine
    api = late_app.extensions["wechat_api"]
    late = LateReplies(lambda: late_app.extensions["late_replies"]._db(), "salt", customer_service(api))
    standin.user_wrote(follower)
    paragraphs = [f"第{n}段：" + "家庭共济" * 60 for n in range(6)]  # about 4,400 bytes
    turn = Future()
    late.hand_over(Incoming("wechat", follower, message_id="long-1"), turn)
    turn.set_result(Reply("\n\n".join(paragraphs), "answer"))
    eventually(
        lambda: (r := late_app.extensions["late_replies"]) and late_replies.state_of(r._db(), "wechat:long-1") == "sent"
    )
    pages = [text for openid, text in standin.sent if openid == follower]
    assert len(pages) == 3 and all(len(p.encode()) <= 2000 for p in pages)
    assert "".join(pages).replace("\n", "") == "".join(paragraphs)


def test_wechat_send_slow_shows_the_late_reply_arriving(tmp_path):
    app = create_app(wechat_config(tmp_path / "bot.sqlite", WECHAT_REPLY_TIMEOUT=0.3))
    result = app.test_cli_runner().invoke(args=["wechat", "send", QUESTION, "--slow", "--delay", "0.6"])
    assert result.exit_code == 0, result.output
    passive, _, late = result.output.partition("customer-service message to o_local_tester after")
    assert "server answered “success”" in passive and ANSWER in late
