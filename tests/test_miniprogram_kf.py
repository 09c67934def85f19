"""/wechat/miniprogram: the mini-program's customer-service chat, end to end.

WeChat is played twice over: MiniProgramUser pushes the messages (XML or JSON, wechatpy crypto), the loopback
stand-in of WeChat's API server receives what the server sends back. The bot, knowledge base and SQLite are real.
"""

import dataclasses
import hashlib
import json
import logging
import time
from concurrent.futures import Future

import pytest
from wechat_user import MP_APP_ID, MP_SECRET, MP_TOKEN, MiniProgramUser, SlowBot, eventually, miniprogram_config

from app import create_app
from bot.messages import Incoming, Reply
from bot.privacy import user_hash
from bot.storage import open_db, shared
from handlers.miniprogram_kf import AFTER_MESSAGE, compose
from handlers.wechat_api_standin import WeChatApiStandIn
from handlers.wechat_platform import MODES, deliver, message_fields, render
from handlers.wechat_push import signature_of

QUESTION, ANSWER = "家庭共济怎么开通", "国家医保服务平台"
FORMATS = ("json", "xml")
FAQ_PAGE = "pages/faq/index"


@pytest.fixture(scope="module")
def standin():
    return WeChatApiStandIn(MP_APP_ID, MP_SECRET)


@pytest.fixture(scope="module")
def mp_app(standin, tmp_path_factory):
    with standin.serve() as base:
        database = tmp_path_factory.mktemp("mp") / "bot.sqlite"
        app = create_app(
            miniprogram_config(database, base, MINIPROGRAM_PUSH_ALLOW_PLAINTEXT=True, MINIPROGRAM_FAQ_PAGE=FAQ_PAGE)
        )
        app.extensions["knowledge"].current()  # the matcher is built now, not inside the first push
        yield app


def openid_for(request, suffix: str = "") -> str:
    return "o_" + hashlib.sha1((request.node.nodeid + suffix).encode()).hexdigest()[:26]


@pytest.fixture(params=FORMATS)
def user(mp_app, standin, request):
    """A user of the chat, once with the console set to JSON and once to XML."""
    return MiniProgramUser(mp_app.test_client(), standin, openid_for(request), request.param)


@pytest.fixture
def json_user(mp_app, standin, request):
    return MiniProgramUser(mp_app.test_client(), standin, openid_for(request), "json")


def records_of(app, user) -> list[dict]:
    """The user's sent replies as operators see them (`flask wechat late`)."""
    who = user_hash(app.config["USER_HASH_SALT"], "miniprogram", user.openid)
    return list(open_db(app.config["DATABASE"]).query("SELECT * FROM late_replies WHERE user_hash = ?", [who]))


def settled(app, user, count: int = 1) -> list[dict]:
    """The user's replies once `count` of them have an outcome (sent, refused or failed)."""
    return eventually(
        lambda: (
            (rows := records_of(app, user))
            and sum(r["state"] not in ("pending", "sending") for r in rows) >= count
            and rows
        )
    )


def window_left(app, user) -> int:
    return app.extensions["miniprogram_replies"].window.left(
        user_hash(app.config["USER_HASH_SALT"], "miniprogram", user.openid)
    )


# The URL check and the answers, in every format and mode


def test_the_console_url_check_gets_echostr_back(mp_app):
    stamp, nonce = str(int(time.time())), "12345"
    query = {"signature": signature_of(MP_TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce, "echostr": "e1"}
    response = mp_app.test_client().get("/wechat/miniprogram", query_string=query)
    assert (response.status_code, response.data) == (200, b"e1")
    query["signature"] = signature_of("another-token", stamp, nonce)
    assert mp_app.test_client().get("/wechat/miniprogram", query_string=query).status_code == 403


@pytest.mark.parametrize("mode", MODES)
def test_a_question_gets_success_at_once_and_one_answer_through_the_send_api(mp_app, user, mode):
    started = time.monotonic()
    assert user.send(QUESTION, mode=mode).content is None
    assert user.response.data == b"success" and time.monotonic() - started < 5
    (record,) = settled(mp_app, user)
    assert record["state"] == "sent" and record["pages"] == 1
    (answer,) = user.received()
    assert ANSWER in answer and "以参保地医保部门规定为准" in answer and "有用" in answer


def test_a_retried_push_is_answered_once(mp_app, json_user, caplog):
    caplog.set_level(logging.INFO, logger="bot.delivery")
    json_user.send(QUESTION, msg_id=6054768590064740001)
    settled(mp_app, json_user)
    assert json_user.send(QUESTION, msg_id=6054768590064740001).content is None
    eventually(lambda: "late_reply_carried_by_retry" in caplog.text)
    assert len(json_user.received()) == 1 and len(records_of(mp_app, json_user)) == 1


def test_opening_the_chat_gets_the_greeting_and_a_number_answers(mp_app, user):
    assert user.enter().content is None and user.response.data == b"success"
    settled(mp_app, user)
    (greeting,) = user.received()
    assert "小助手" in greeting and "欢迎关注" not in greeting and "1. " in greeting and "回复数字" in greeting
    user.send("1")
    settled(mp_app, user, 2)
    assert len(user.received()) == 2 and "有用" in user.received()[1]


def test_the_conversation_is_the_bots_own_clarify_region_and_feedback(mp_app, json_user):
    said = []

    def say(text):
        json_user.send(text)
        settled(mp_app, json_user, len(said) + 1)
        said.append(json_user.received()[-1])
        return said[-1]

    offered = say("亲情账户绑定")
    assert "1." in offered and "回复数字即可" in offered
    second_title = offered.split("2. ", 1)[1].split("\n", 1)[0]
    kb = mp_app.extensions["knowledge"].current()[0]
    chosen = next(faq for faq in kb.faqs if faq.title == second_title)
    assert chosen.answer.splitlines()[0] in say("2")
    assert "谢谢" in say("有用")
    say("我在太原上班")
    assert "山西医保" in say(QUESTION)


# 人工, images and cards


@pytest.mark.parametrize("mode", ["plain", "aes"])
def test_asking_for_a_person_transfers_when_turned_on(mp_app, user, mode, monkeypatch):
    monkeypatch.setitem(mp_app.config, "MINIPROGRAM_KF_TRANSFER", True)
    reply = user.send("人工客服", mode=mode)
    assert reply.transferred and reply.fields["ToUserName"] == user.openid
    assert records_of(mp_app, user) == [] and user.received() == []


def test_asking_for_a_person_gets_the_hotline_when_transfer_is_off(mp_app, json_user):
    assert not json_user.send("人工客服").transferred
    settled(mp_app, json_user)
    assert "12393" in json_user.received()[0]


def test_an_image_gets_the_text_only_reply_and_a_card_to_the_faq_page(mp_app, standin, user):
    user.message("image", {"PicUrl": "https://example.invalid/p.jpg", "MediaId": "m1"})
    (record,) = settled(mp_app, user)
    assert record["state"] == "sent" and record["pages"] == 2
    assert "只能看懂文字" in user.received()[0]
    (card,) = user.cards()
    assert card["pagepath"] == FAQ_PAGE and card["title"] and card["thumb_media_id"] in standin.media


# WeChat's limits: 5 messages within 48 hours, and its refusals


def long_reply(paragraphs: int) -> Reply:
    text = "\n\n".join(f"第{n}段：" + "家庭共济" * 150 for n in range(paragraphs))  # 1,800 bytes each
    return Reply(text, "answer", faq_id="gongji-open-online", extra={"title": "家庭共济怎么开通"})


def hand_over(app, standin, openid: str, message_id: str, reply: Reply, wrote: bool = True) -> None:
    """A reply to one pushed message, handed to the sender as the endpoint does after the turn."""
    late = app.extensions["miniprogram_replies"]
    incoming = Incoming("miniprogram", openid, message_id=message_id)
    if wrote:
        standin.user_wrote(openid)
        late.window_opened(incoming, AFTER_MESSAGE)
    done = Future()
    done.set_result(reply)
    late.hand_over(incoming, done)


def test_a_long_answer_never_goes_over_the_5_messages_and_offers_the_rest_as_a_card(mp_app, standin, json_user):
    hand_over(mp_app, standin, json_user.openid, "long-1", long_reply(7))
    (record,) = settled(mp_app, json_user)
    assert (record["state"], record["pages"]) == ("sent", 5)
    assert len(json_user.received()) == 4 and all(len(t.encode()) <= 2000 for t in json_user.received())
    (card,) = json_user.cards()
    assert card["pagepath"] == f"{FAQ_PAGE}?id=gongji-open-online" and card["title"] == "家庭共济怎么开通"
    assert window_left(mp_app, json_user) == 0
    hand_over(mp_app, standin, json_user.openid, "long-2", long_reply(1), wrote=False)  # no new message: no room
    record = next(r for r in settled(mp_app, json_user, 2) if r["key"] == "miniprogram:long-2")
    assert (record["state"], record["error_code"], record["attempts"]) == ("refused", 45047, 0)
    assert len(json_user.received()) == 4  # nothing was even tried


def test_without_a_faq_page_a_long_answer_sends_the_first_5_pages(mp_app, standin, json_user, monkeypatch):
    monkeypatch.setattr(mp_app.extensions["miniprogram_replies"], "compose", compose(None, cards=False))
    hand_over(mp_app, standin, json_user.openid, "long-3", long_reply(7))
    (record,) = settled(mp_app, json_user)
    assert (record["state"], record["pages"]) == ("sent", 5) and len(json_user.received()) == 5
    assert json_user.cards() == []


def test_out_of_the_48_hours_45015_is_recorded_and_closes_the_window(mp_app, standin, json_user):
    delivery = json_user.delivery(message_fields(json_user.account, json_user.openid, "text", {"Content": QUESTION}))
    standin.last_message_at[json_user.openid] = time.time() - 49 * 3600  # WeChat's clock says 49 hours
    assert json_user.post_checked(delivery).content is None
    (record,) = settled(mp_app, json_user)
    assert (record["state"], record["error_code"]) == ("refused", 45015) and ANSWER in record["text"]
    assert window_left(mp_app, json_user) == 0
    listed = mp_app.test_cli_runner().invoke(args=["wechat", "late"]).output
    assert "refused 45015" in listed


def test_over_the_count_45047_is_recorded_and_closes_the_window(mp_app, standin, json_user):
    standin.user_wrote(json_user.openid)
    delivery = json_user.delivery(message_fields(json_user.account, json_user.openid, "text", {"Content": QUESTION}))
    standin.left[json_user.openid] = 0  # the staff's tools used them up
    json_user.post_checked(delivery)
    (record,) = settled(mp_app, json_user)
    assert (record["state"], record["error_code"], record["attempts"]) == ("refused", 45047, 1)
    assert window_left(mp_app, json_user) == 0


def test_a_token_no_longer_valid_40001_is_fetched_again_once_and_the_send_retried(mp_app, standin, json_user):
    json_user.send("你好")
    settled(mp_app, json_user)
    fetched = standin.token_fetches
    standin.revoke_tokens()
    json_user.send(QUESTION)
    assert [r["state"] for r in settled(mp_app, json_user, 2)] == ["sent", "sent"]
    assert standin.token_fetches == fetched + 1 and ANSWER in json_user.received()[1]


def test_the_mini_program_has_its_own_access_token(mp_app, json_user):
    json_user.send("你好")
    settled(mp_app, json_user)
    db = open_db(mp_app.config["DATABASE"])
    assert shared.get_value(db, f"miniprogram:{MP_APP_ID}_access_token")
    assert mp_app.extensions["miniprogram_api"] is not mp_app.extensions["wechat_api"]


# The guards of /wechat, here too


def post_raw(user, delivery, **query_changes):
    return user.post(dataclasses.replace(delivery, query=delivery.query | query_changes))


def text_delivery(user, mode="aes", timestamp=None):
    elements = message_fields(user.account, user.openid, "text", {"Content": QUESTION})
    return user.delivery(elements, mode, timestamp)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        b"[" * 30_000 + b"]" * 30_000,
        json.dumps({"ToUserName": "gh", "FromUserName": {"x": 1}, "CreateTime": 1, "MsgType": "text"}).encode(),
        json.dumps({"ToUserName": "gh", "FromUserName": "o", "CreateTime": 1, "MsgType": True}).encode(),
        json.dumps({"ToUserName": "gh", "CreateTime": 1, "MsgType": "text"}).encode(),
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaa">]><xml><ToUserName>&a;</ToUserName></xml>',
        b"\xff\xfe{",
    ],
    ids=["malformed", "array", "deep", "nested-field", "boolean-field", "missing-field", "doctype", "not-utf8"],
)
def test_malformed_or_hostile_bodies_are_400(json_user, body):
    delivery = dataclasses.replace(text_delivery(json_user, "plain"), body=body)
    assert json_user.post(delivery).status_code == 400


@pytest.mark.parametrize("data_format", FORMATS)
def test_a_hostile_payload_inside_encrypt_is_400(mp_app, json_user, data_format):
    json_user.data_format = data_format
    text = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>' if data_format == "xml" else "[[[]]]"
    delivery = deliver(json_user.account, json_user.openid, text, "aes", data_format=data_format)
    assert json_user.post(delivery).status_code == 400


def test_signatures_replay_and_plaintext_rules(mp_app, json_user, monkeypatch):
    delivery = text_delivery(json_user)
    assert post_raw(json_user, delivery, msg_signature="0" * 40).status_code == 403
    stale = text_delivery(json_user, timestamp=int(time.time()) - 3600)
    assert json_user.post(stale).status_code == 403
    plain = text_delivery(json_user, "plain")
    assert json_user.post(plain).status_code == 200
    forged = plain.body.replace(json_user.openid.encode(), b"o_forged_sender_00000000000")
    assert json_user.post(dataclasses.replace(plain, body=forged)).status_code == 403  # same query, another body
    monkeypatch.setitem(mp_app.config, "MINIPROGRAM_PUSH_ALLOW_PLAINTEXT", False)
    assert json_user.post(text_delivery(json_user, "plain")).status_code == 403
    assert post_raw(json_user, text_delivery(json_user), encrypt_type="des").status_code == 400


def test_a_push_for_another_mini_program_is_400_and_an_oversized_one_413(mp_app, json_user):
    stranger = dataclasses.replace(json_user.account, app_id="wxanotherprogram01")
    text = render(message_fields(stranger, json_user.openid, "text", {"Content": QUESTION}), "json")
    assert json_user.post(deliver(stranger, json_user.openid, text, "aes", data_format="json")).status_code == 400
    big = dataclasses.replace(text_delivery(json_user, "plain"), body=b" " * (65 * 1024))
    assert json_user.post(big).status_code == 413


def test_without_the_push_token_the_endpoint_is_503(mp_app, json_user, monkeypatch):
    monkeypatch.setitem(mp_app.config, "MINIPROGRAM_PUSH_TOKEN", "")
    assert json_user.post(text_delivery(json_user)).status_code == 503
    assert mp_app.test_client().get("/wechat/miniprogram").status_code == 503


def test_a_slow_turn_is_answered_success_in_time_and_sent_once_when_it_ends(mp_app, json_user, monkeypatch):
    slow = SlowBot(mp_app.extensions["bot"])
    monkeypatch.setitem(mp_app.extensions, "bot", slow)
    monkeypatch.setitem(mp_app.config, "WECHAT_REPLY_TIMEOUT", 0.3)
    assert json_user.send(QUESTION, msg_id=6054768590064740002).content is None
    assert json_user.response.data == b"success" and json_user.received() == []
    slow.gate.set()
    (record,) = settled(mp_app, json_user)
    assert record["state"] == "sent" and ANSWER in json_user.received()[0] and len(json_user.received()) == 1
