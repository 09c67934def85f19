"""The mini-program's customer-service pushes in both data formats (XML, JSON): read them, write the few replies.

The console's 数据格式 chooses XML or JSON for everything: the push, the safe-mode envelope around it
(`{"ToUserName", "Encrypt"}`) and our reply. JSON is read into the same flat dict of strings an XML push gives
(CreateTime and MsgId come as numbers), so one set of checks serves both; anything else is XmlError → 400.
"""

from __future__ import annotations

import json
import time

from bot.messages import Incoming

from . import wechat_xml
from .wechat_xml import XmlError, field

CHANNEL = "miniprogram"
#: The reply that hands the message to the mini-program's customer-service staff.
TRANSFER = "transfer_customer_service"


def data_format(body: bytes) -> str:
    """ "json" or "xml", as the console's 数据格式 made WeChat write the body."""
    return "json" if body.lstrip()[:1] == b"{" else "xml"


def parse(body: bytes | str, kind: str) -> dict:
    """The push's fields, from either format; hostile or malformed input raises XmlError."""
    return wechat_xml.parse(body) if kind == "xml" else parse_json(body)


def parse_json(body: bytes | str) -> dict:
    """A JSON object's fields, numbers as their text; nested values are kept (and refused where read)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise XmlError(f"unreadable JSON: {type(exc).__name__}") from None
    if not isinstance(document, dict):
        raise XmlError("the body must be a JSON object")
    return {key: _text(value) for key, value in document.items()}


def _text(value: object) -> object:
    if isinstance(value, bool) or value is None:
        return [value]  # neither a string nor a number: `field` refuses it as not plain text
    if isinstance(value, int):
        return str(value)
    return value


def read_message(body: bytes | str, kind: str) -> dict:
    """A message or event with the fields every reply needs."""
    return wechat_xml.checked(parse(body, kind))


def to_incoming(message: dict) -> Incoming:
    """The channel-neutral Incoming for one customer-service message or event; answers come whole, sent later."""
    user = field(message, "FromUserName")
    msg_type = field(message, "MsgType").lower()
    if msg_type == "event":
        event = field(message, "Event", "").lower()
        if event == "user_enter_tempsession":  # the user opened the chat (the contact button): the greeting
            kind, text = "enter", field(message, "SessionFrom", "")
        else:
            kind, text = "event", event
        return Incoming(CHANNEL, user, kind=kind, text=text, message_id=wechat_xml.event_id(message), paged=False)
    message_id = field(message, "MsgId", "") or None
    if msg_type == "text":
        return Incoming(
            CHANNEL, user, kind="text", text=field(message, "Content", ""), message_id=message_id, paged=False
        )
    # Images, mini-program cards and types WeChat adds later: the bot asks for text.
    return Incoming(CHANNEL, user, kind="media", text=msg_type, message_id=message_id, paged=False)


def render_transfer(message: dict, kind: str) -> str:
    """The reply handing `message` to the staff (将消息转发到客服), in the push's format."""
    if kind == "xml":
        return wechat_xml.render_transfer(message)
    reply = {
        "ToUserName": field(message, "FromUserName"),
        "FromUserName": field(message, "ToUserName"),
        "CreateTime": int(time.time()),
        "MsgType": TRANSFER,
    }
    return json.dumps(reply, ensure_ascii=False)


def json_envelope(encrypted_xml: str) -> str:
    """wechatpy's encrypted reply envelope (XML) as the JSON one a JSON-format push expects."""
    envelope = wechat_xml.parse(encrypted_xml)
    return json.dumps(
        {
            "Encrypt": envelope["Encrypt"],
            "MsgSignature": envelope["MsgSignature"],
            "TimeStamp": int(envelope["TimeStamp"]),
            "Nonce": envelope["Nonce"],
        }
    )
