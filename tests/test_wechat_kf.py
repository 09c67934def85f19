"""WECHAT_KF_TRANSFER: "人工" (and a rejected fallback) hands the message to the account's customer-service staff."""

import hashlib

import pytest
from wechat_user import WeChatUser, wechat_config

from app import create_app


@pytest.fixture(scope="module")
def kf_app(tmp_path_factory):
    app = create_app(
        wechat_config(
            tmp_path_factory.mktemp("kf") / "bot.sqlite", WECHAT_KF_TRANSFER=True, WECHAT_ALLOW_PLAINTEXT=True
        )
    )
    app.extensions["knowledge"].current()  # the matcher is built now, not inside the first reply's 4.5 s
    return app


@pytest.fixture
def user(kf_app, request):
    return WeChatUser(kf_app.test_client(), "o_" + hashlib.sha1(request.node.nodeid.encode()).hexdigest())


@pytest.mark.parametrize("mode", ["plain", "aes"])
def test_asking_for_a_person_transfers_the_message(user, mode):
    reply = user.send("人工客服", mode=mode)
    assert reply.transferred and reply.fields["ToUserName"] == user.openid


def test_rejecting_a_fallback_transfers_the_next_message(user):
    assert "12393" in user.send("今天天气怎么样").content
    assert user.send("没用").transferred


def test_questions_are_still_answered_by_the_bot(user):
    reply = user.send("家庭共济怎么开通")
    assert not reply.transferred and "国家医保服务平台" in reply.content


def test_a_retried_transfer_is_transferred_again(user):
    first = user.send("转人工", msg_id=6054768590064730001)
    assert first.transferred and user.send("转人工", msg_id=6054768590064730001).transferred


def test_without_the_setting_the_bot_gives_the_hotline(kf_app, user, monkeypatch):
    monkeypatch.setitem(kf_app.config, "WECHAT_KF_TRANSFER", False)
    reply = user.send("人工客服")
    assert not reply.transferred and "12393" in reply.content
