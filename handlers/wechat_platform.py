"""WeChat's own side of the protocol, for `flask wechat send` and the tests: build, sign, encrypt; open the reply.

The official account's pushes are XML; a mini-program's customer-service pushes are XML or JSON (its console's
数据格式), signed and encrypted the same way.
"""

from __future__ import annotations

import hmac
import json
import secrets
import struct
import time
from dataclasses import dataclass, field
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

from .wechat_push import signature_of
from .wechat_xml import cdata

#: plain: 明文模式; compat: 兼容模式 (plaintext and Encrypt side by side); aes: 安全模式.
MODES = ("plain", "compat", "aes")

#: Fields WeChat writes as bare numbers; every other string goes in CDATA.
_NUMERIC = frozenset({"CreateTime", "MsgId", "Location_X", "Location_Y", "Scale", "Latitude", "Longitude", "Precision"})

#: The MsgType of a reply that hands the message to the account's customer-service staff.
TRANSFER = "transfer_customer_service"

#: A passive reply longer than this fails as a whole in the user's WeChat (reported, not documented).
REPLY_BYTE_LIMIT = 2048


@dataclass(frozen=True)
class Account:
    """An official account as WeChat's server knows it: the console's settings and its original id."""

    token: str
    aes_key: str = ""
    app_id: str = ""
    original_id: str = "gh_0000000000ab"  # ToUserName of every message to the account


@dataclass(frozen=True)
class Delivery:
    """One POST as WeChat makes it, and whom it came from (the reply must go back to them)."""

    query: dict[str, str]
    body: bytes
    user: str
    mode: str
    data_format: str = "xml"


@dataclass(frozen=True)
class PassiveReply:
    """What the user's WeChat gets from a reply; `content` None means it shows nothing."""

    content: str | None
    xml: str = ""  # the reply's plaintext XML, decrypted if it came encrypted
    fields: dict = field(default_factory=dict)

    @property
    def transferred(self) -> bool:
        """The server handed the message to the account's customer-service staff (transfer_customer_service)."""
        return self.fields.get("MsgType") == TRANSFER


class ReplyError(Exception):
    """A reply WeChat would not show: not XML, badly signed, for another AppID or user, or too long."""


def message_fields(
    account: Account, user: str, msg_type: str, fields: dict[str, str], msg_id: int | None = None
) -> dict[str, str]:
    """A message (with a MsgId) or an event (MsgType "event", no MsgId) as WeChat posts it, field by field."""
    elements = {"ToUserName": account.original_id, "FromUserName": user, "CreateTime": str(int(time.time()))}
    elements |= {"MsgType": msg_type, **fields}
    if msg_type != "event":
        elements["MsgId"] = str(msg_id if msg_id is not None else secrets.randbits(63))
    return elements


def message_xml(account: Account, user: str, msg_type: str, fields: dict[str, str], msg_id: int | None = None) -> str:
    """A message or event as WeChat posts it in XML."""
    return render(message_fields(account, user, msg_type, fields, msg_id), "xml")


def render(elements: dict[str, str], data_format: str) -> str:
    """Fields as WeChat writes them: XML with CDATA, or JSON with CreateTime and MsgId as numbers."""
    if data_format == "json":
        return json.dumps({k: int(v) if k in _NUMERIC and v.isdigit() else v for k, v in elements.items()})
    body = "".join(f"<{k}>{v if k in _NUMERIC else cdata(v)}</{k}>" for k, v in elements.items())
    return f"<xml>{body}</xml>"


def deliver(
    account: Account, user: str, text: str, mode: str, timestamp: int | None = None, data_format: str = "xml"
) -> Delivery:
    """Sign `text` (the message, XML or JSON) and, in compatible and safe mode, encrypt it, as WeChat posts it."""
    stamp, nonce = str(timestamp if timestamp is not None else int(time.time())), str(secrets.randbelow(10**10))
    query = {"signature": signature_of(account.token, stamp, nonce), "timestamp": stamp, "nonce": nonce, "openid": user}
    if mode == "plain":
        return Delivery(query, text.encode("utf-8"), user, mode, data_format)
    crypto = WeChatCrypto(account.token, account.aes_key, account.app_id)
    envelope = xmltodict.parse(crypto.encrypt_message(text, nonce, stamp))["xml"]
    query |= {"encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}
    if data_format == "json":
        outer = json.loads(text) if mode == "compat" else {"ToUserName": account.original_id}
        body = json.dumps(outer | {"Encrypt": envelope["Encrypt"]})
    elif mode == "compat":
        end = text.rindex("</xml>")
        body = text[:end] + f"<Encrypt>{cdata(envelope['Encrypt'])}</Encrypt>" + text[end:]
    else:
        encrypt = f"<Encrypt>{cdata(envelope['Encrypt'])}</Encrypt>"
        body = f"<xml><ToUserName>{cdata(account.original_id)}</ToUserName>{encrypt}</xml>"
    return Delivery(query, body.encode("utf-8"), user, mode, data_format)


def open_kf_reply(account: Account, delivery: Delivery, body: bytes) -> PassiveReply:
    """A mini-program's answer to a customer-service push: `success`, or a transfer to its staff in the push's
    format (encrypted in safe mode); anything else is a ReplyError, as answers must go through the send API."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ReplyError("the reply is not UTF-8") from None
    if text.strip() in ("", "success"):
        return PassiveReply(None)
    fields = _parse_json(text) if delivery.data_format == "json" else _parse(text)
    if "Encrypt" in fields:
        if delivery.mode == "plain":
            raise ReplyError("an encrypted reply to a plaintext message")
        text = _decrypt(account, {k: str(v) for k, v in fields.items()})
        fields = _parse_json(text) if delivery.data_format == "json" else _parse(text)
    elif delivery.mode == "aes":
        raise ReplyError("a plaintext reply in safe mode")
    if fields.get("ToUserName") != delivery.user or fields.get("FromUserName") != account.original_id:
        raise ReplyError("the reply's ToUserName/FromUserName do not answer the message")
    if fields.get("MsgType") != TRANSFER:
        raise ReplyError(f"a mini-program may only reply success or {TRANSFER}, got {fields.get('MsgType')!r}")
    return PassiveReply(None, text, fields)


def open_reply(account: Account, delivery: Delivery, body: bytes) -> PassiveReply:
    """Check and decrypt the server's answer to `delivery` as WeChat would; raise ReplyError where WeChat fails."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ReplyError("the reply is not UTF-8") from None
    if text.strip() in ("", "success"):
        return PassiveReply(None)
    fields = _parse(text)
    if "Encrypt" in fields:
        if delivery.mode == "plain":
            raise ReplyError("an encrypted reply to a plaintext message")
        text = _decrypt(account, fields)
        fields = _parse(text)
    elif delivery.mode == "aes":
        raise ReplyError("a plaintext reply in safe mode")
    if fields.get("ToUserName") != delivery.user or fields.get("FromUserName") != account.original_id:
        raise ReplyError("the reply's ToUserName/FromUserName do not answer the message")
    if fields.get("MsgType") == TRANSFER:
        return PassiveReply(None, text, fields)
    if fields.get("MsgType") != "text":
        raise ReplyError(f"expected a text reply, got MsgType {fields.get('MsgType')!r}")
    content = fields.get("Content") or ""
    size = len(content.encode("utf-8"))
    if size > REPLY_BYTE_LIMIT:
        raise ReplyError(f"Content is {size} bytes; WeChat fails replies over {REPLY_BYTE_LIMIT}")
    return PassiveReply(content, text, fields)


def _decrypt(account: Account, envelope: dict) -> str:
    values = [envelope.get(name) or "" for name in ("TimeStamp", "Nonce", "Encrypt")]
    expected = signature_of(account.token, *values)
    if not hmac.compare_digest(expected.encode(), (envelope.get("MsgSignature") or "").encode()):
        raise ReplyError("the reply's MsgSignature does not match")
    crypto = WeChatCrypto(account.token, account.aes_key, account.app_id)
    try:
        return crypto.decrypt_message(envelope, envelope["MsgSignature"], values[0], values[1])
    except (InvalidAppIdException, InvalidSignatureException) as exc:
        raise ReplyError(f"the reply does not decrypt for this account ({type(exc).__name__})") from None
    except (ValueError, IndexError, struct.error) as exc:
        raise ReplyError(f"the reply does not decrypt ({type(exc).__name__})") from None


def _parse_json(text: str) -> dict:
    try:
        fields = json.loads(text)
    except ValueError as exc:
        raise ReplyError(f"the reply is not JSON ({exc})") from None
    if not isinstance(fields, dict):
        raise ReplyError("the reply is not a JSON object")
    return fields


def _parse(text: str) -> dict:
    try:
        root = xmltodict.parse(text)["xml"]
    except (ValueError, KeyError, TypeError, ExpatError) as exc:
        raise ReplyError(f"the reply is not WeChat XML ({exc})") from None
    if not isinstance(root, dict):
        raise ReplyError("the reply's <xml> has no fields")
    return root
