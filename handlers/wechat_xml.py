"""WeChat's XML edge: a guarded parse of what WeChat posts, the Incoming it means, and a CDATA-safe reply."""

from __future__ import annotations

import hashlib
import time
from types import SimpleNamespace
from xml.parsers import expat

import xmltodict

from bot.messages import Incoming

_REPLY = (
    "<xml>"
    "<ToUserName>{to}</ToUserName>"
    "<FromUserName>{sender}</FromUserName>"
    "<CreateTime>{time}</CreateTime>"
    "<MsgType><![CDATA[text]]></MsgType>"
    "<Content>{content}</Content>"
    "</xml>"
)


class XmlError(ValueError):
    """The body is not a WeChat message we accept: malformed, hostile (DTD, entities) or the wrong shape."""


def _refuse_doctype(*_args) -> None:
    raise ValueError("DOCTYPE is not allowed")


def _guarded_parser(*args, **kwargs):
    parser = expat.ParserCreate(*args, **kwargs)
    # xmltodict refuses entity declarations only; an external DTD (XXE) would otherwise pass silently.
    parser.StartDoctypeDeclHandler = _refuse_doctype
    return parser


_GUARDED_EXPAT = SimpleNamespace(ParserCreate=_guarded_parser)


def parse(body: bytes | str) -> dict:
    """The children of the <xml> root; a DTD, an entity or malformed XML raises XmlError before anything expands."""
    try:
        document = xmltodict.parse(body, expat=_GUARDED_EXPAT, disable_entities=True)
    except (ValueError, expat.ExpatError) as exc:
        raise XmlError(f"unreadable XML: {exc}") from None
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        raise XmlError("the root element must be <xml> with child elements")
    return root


def field(fields: dict, name: str, default: str | None = None) -> str:
    """A child element's text; a nested or repeated element, or a missing one without a default, raises XmlError."""
    value = fields.get(name, default)
    if value is None and name in fields:
        return ""  # an empty element, e.g. <EventKey/>
    if not isinstance(value, str):
        raise XmlError(f"<{name}> must be plain text" if name in fields else f"<{name}> is missing")
    return value


def read_message(body: bytes | str) -> dict:
    """A message or event with the fields every reply needs, checked to be plain text."""
    return checked(parse(body))


def checked(message: dict) -> dict:
    """`message` if the fields every reply needs are there as plain text (XML or JSON alike)."""
    for name in ("ToUserName", "FromUserName", "CreateTime", "MsgType"):
        field(message, name)
    return message


def to_incoming(message: dict) -> Incoming:
    """The channel-neutral Incoming for one WeChat message or event from `read_message`."""
    user = field(message, "FromUserName")
    msg_type = field(message, "MsgType").lower()
    if msg_type == "event":
        kind, text = _event(field(message, "Event", "").lower(), field(message, "EventKey", ""))
        return Incoming("wechat", user, kind=kind, text=text, message_id=event_id(message))
    message_id = field(message, "MsgId", "") or None
    if msg_type == "text":
        return Incoming("wechat", user, kind="text", text=field(message, "Content", ""), message_id=message_id)
    if msg_type == "voice":
        return Incoming("wechat", user, kind="voice", text=field(message, "Recognition", ""), message_id=message_id)
    # Images, locations, links and types WeChat adds later: the bot asks for text; the type goes to the records.
    return Incoming("wechat", user, kind="media", text=msg_type, message_id=message_id)


def _event(event: str, key: str) -> tuple[str, str]:
    if event == "subscribe":  # also via a QR code: EventKey "qrscene_<scene>", kept for the records
        return "subscribe", key
    if event == "unsubscribe":
        return "unsubscribe", ""
    if event == "click":
        return "click", key
    return "event", event


def event_id(message: dict) -> str:
    """Events have no MsgId; WeChat's retries repeat sender, CreateTime, Event and EventKey."""
    # Hashed: the bot stores delivery keys, and an openid must not reach the database.
    parts = [field(message, name, "") for name in ("FromUserName", "CreateTime", "Event", "EventKey")]
    return "event-" + hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]


def cdata(text: str) -> str:
    """`text` as CDATA; a "]]>" inside is split so it cannot end the section early."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_text(message: dict, text: str) -> str:
    """The passive text reply to `message`: sender and receiver swapped, every string CDATA-safe."""
    return _REPLY.format(
        to=cdata(field(message, "FromUserName")),
        sender=cdata(field(message, "ToUserName")),
        time=int(time.time()),
        content=cdata(text),
    )


def render_transfer(message: dict) -> str:
    """The reply that hands `message` to the account's customer-service staff (多客服) instead of answering it."""
    return (
        f"<xml><ToUserName>{cdata(field(message, 'FromUserName'))}</ToUserName>"
        f"<FromUserName>{cdata(field(message, 'ToUserName'))}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[transfer_customer_service]]></MsgType></xml>"
    )
