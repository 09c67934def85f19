"""The WeChat stand-in signs like WeChat and fails where WeChat would, or the tests relying on it prove nothing."""

import hashlib

import pytest
import xmltodict
from wechat_user import AES_KEY, APP_ID, SAMPLE_ENCRYPT, SAMPLE_QUERY, TOKEN
from wechatpy.crypto import WeChatCrypto

from handlers.wechat_platform import Account, ReplyError, deliver, message_xml, open_reply
from handlers.wechat_push import signature_of
from handlers.wechat_xml import cdata

ACCOUNT = Account(TOKEN, AES_KEY, APP_ID)
USER = "o_platform"


def reply_xml(content="回答", to=USER, msg_type="text") -> str:
    return (
        f"<xml><ToUserName>{cdata(to)}</ToUserName><FromUserName>{cdata(ACCOUNT.original_id)}</FromUserName>"
        f"<CreateTime>1700000000</CreateTime><MsgType>{msg_type}</MsgType><Content>{cdata(content)}</Content></xml>"
    )


def encrypted(xml: str, account: Account = ACCOUNT) -> bytes:
    return WeChatCrypto(account.token, account.aes_key, account.app_id).encrypt_message(xml, "123").encode()


def delivery(mode: str):
    return deliver(ACCOUNT, USER, message_xml(ACCOUNT, USER, "text", {"Content": "问题"}), mode)


def test_signatures_are_sha1_over_the_sorted_parts():
    parts = [TOKEN, "1409735669", "1320562132"]
    assert signature_of(*parts) == hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def test_safe_mode_signature_matches_tencents_sample():
    q = SAMPLE_QUERY
    assert signature_of(TOKEN, q["timestamp"], q["nonce"], SAMPLE_ENCRYPT) == q["msg_signature"]


@pytest.mark.parametrize("mode", ["compat", "aes"])
def test_encrypted_deliveries_carry_a_valid_msg_signature(mode):
    sent = delivery(mode)
    body = xmltodict.parse(sent.body)["xml"]
    q = sent.query
    assert q["encrypt_type"] == "aes"
    assert q["msg_signature"] == signature_of(TOKEN, q["timestamp"], q["nonce"], body["Encrypt"])
    assert ("Content" in body) == (mode == "compat")
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    inner = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
    assert xmltodict.parse(inner)["xml"]["Content"] == "问题"


@pytest.mark.parametrize(("mode", "body"), [("plain", reply_xml().encode()), ("aes", encrypted(reply_xml()))])
def test_a_proper_reply_opens(mode, body):
    assert open_reply(ACCOUNT, delivery(mode), body).content == "回答"


@pytest.mark.parametrize("body", [b"success", b""])
def test_success_and_empty_mean_nothing_shown(body):
    assert open_reply(ACCOUNT, delivery("aes"), body).content is None


def tampered_signature() -> bytes:
    envelope = encrypted(reply_xml()).decode()
    start = envelope.index("<MsgSignature><![CDATA[") + len("<MsgSignature><![CDATA[")
    return (envelope[:start] + "0" * 40 + envelope[start + 40 :]).encode()


def for_another_app() -> bytes:
    return encrypted(reply_xml(), Account(TOKEN, AES_KEY, "wx0000000000000000"))


@pytest.mark.parametrize(
    ("mode", "body", "complaint"),
    [
        ("aes", tampered_signature(), "MsgSignature does not match"),
        ("aes", for_another_app(), "does not decrypt for this account"),
        ("aes", reply_xml().encode(), "plaintext reply in safe mode"),
        ("plain", encrypted(reply_xml()), "encrypted reply to a plaintext message"),
        ("plain", reply_xml(to="o_someone_else").encode(), "do not answer the message"),
        ("plain", reply_xml(msg_type="news").encode(), "expected a text reply"),
        ("plain", reply_xml("字" * 683).encode(), "WeChat fails replies over 2048"),
        ("plain", b"{}", "not WeChat XML"),
    ],
)
def test_replies_wechat_would_not_show_are_errors(mode, body, complaint):
    with pytest.raises(ReplyError, match=complaint):
        open_reply(ACCOUNT, delivery(mode), body)
