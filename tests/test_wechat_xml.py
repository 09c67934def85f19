"""The XML edge: hostile or malformed bodies refused, each WeChat message type's Incoming, CDATA-safe replies."""

import pytest
import xmltodict

from handlers.wechat_xml import XmlError, parse, read_message, render_text, to_incoming

HEAD = (
    "<ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[o_user]]></FromUserName>"
    "<CreateTime>1700000000</CreateTime>"
)
LAUGHS = (
    '<!DOCTYPE xml [<!ENTITY a "ha">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + "]>"
)


def xml(body: str, head: str = HEAD) -> str:
    return f"<xml>{head}{body}</xml>"


def text(content: str = "你好", msg_id: str = "6054768590064713728") -> str:
    """A text message; `content` is an XML fragment, so entity references in it are live."""
    return xml(f"<MsgType><![CDATA[text]]></MsgType><Content>{content}</Content><MsgId>{msg_id}</MsgId>")


def event(name: str, key: str | None = None, head: str = HEAD) -> str:
    key_xml = f"<EventKey><![CDATA[{key}]]></EventKey>" if key is not None else ""
    return xml(f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{name}]]></Event>{key_xml}", head)


HOSTILE = {
    "XXE file": '<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + text("&xxe;"),
    "XXE via external DTD only": '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd">' + text("&xxe;"),
    "parameter entity": '<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>' + text(),
    "internal entity": '<!DOCTYPE xml [<!ENTITY name "value">]>' + text("&name;"),
    "billion laughs": LAUGHS + text("&j;"),
    "bare DOCTYPE": "<!DOCTYPE xml>" + text(),
}

MALFORMED = {
    "empty": "",
    "not XML": "hello",
    "unclosed": "<xml><MsgType>text</MsgType>",
    "two roots": text() + text(),
    "wrong root": "<message><MsgType>text</MsgType></message>",
    "text-only root": "<xml>hello</xml>",
    "empty root": "<xml/>",
    "undefined entity": text("&nope;"),
    "forbidden character": text("&#1;"),
    "not UTF-8": b"<xml><Content>\xff\xfe</Content></xml>",
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=list(HOSTILE))
def test_doctype_and_entities_are_refused(body):
    with pytest.raises(XmlError):
        parse(body)


@pytest.mark.parametrize("body", MALFORMED.values(), ids=list(MALFORMED))
def test_malformed_xml_is_refused(body):
    with pytest.raises(XmlError):
        parse(body)


@pytest.mark.parametrize(
    "body",
    [
        xml("<MsgType>text</MsgType>", head="<ToUserName>gh</ToUserName><CreateTime>1</CreateTime>"),
        xml("<MsgType>text</MsgType>", head="<ToUserName>gh</ToUserName><FromUserName><a>o</a></FromUserName>"),
        xml("<MsgType>text</MsgType><MsgType>voice</MsgType>"),
    ],
    ids=["missing FromUserName", "nested FromUserName", "repeated MsgType"],
)
def test_a_message_without_plain_header_fields_is_refused(body):
    with pytest.raises(XmlError):
        read_message(body)


def test_nested_fields_are_refused_where_they_are_read():
    message = read_message(xml("<MsgType>text</MsgType><Content><b>x</b></Content>"))
    with pytest.raises(XmlError):
        to_incoming(message)


def test_text_becomes_a_text_incoming_keyed_by_msg_id():
    incoming = to_incoming(read_message(text("家庭共济怎么开通")))
    assert (incoming.channel, incoming.user_id, incoming.kind) == ("wechat", "o_user", "text")
    assert incoming.text == "家庭共济怎么开通"
    assert incoming.message_id == "6054768590064713728"


@pytest.mark.parametrize(
    ("recognition", "expected"),
    [
        ("<Recognition><![CDATA[家庭共济怎么开通]]></Recognition>", "家庭共济怎么开通"),
        ("<Recognition><![CDATA[]]></Recognition>", ""),
        ("", ""),
    ],
    ids=["recognised", "empty", "recognition off"],
)
def test_voice_carries_its_recognition(recognition, expected):
    body = xml(f"<MsgType>voice</MsgType><MediaId>m</MediaId><Format>amr</Format>{recognition}<MsgId>42</MsgId>")
    incoming = to_incoming(read_message(body))
    assert (incoming.kind, incoming.text, incoming.message_id) == ("voice", expected, "42")


@pytest.mark.parametrize("msg_type", ["image", "video", "shortvideo", "location", "link", "file", "newtype"])
def test_anything_else_a_user_sends_is_media(msg_type):
    incoming = to_incoming(read_message(xml(f"<MsgType>{msg_type}</MsgType><MsgId>7</MsgId>")))
    assert (incoming.kind, incoming.message_id) == ("media", "7")


@pytest.mark.parametrize(
    ("name", "key", "kind", "text"),
    [
        ("subscribe", None, "subscribe", ""),
        ("subscribe", "", "subscribe", ""),
        ("subscribe", "qrscene_123", "subscribe", "qrscene_123"),
        ("unsubscribe", "", "unsubscribe", ""),
        ("CLICK", "MENU_GONGJI_OPEN", "click", "MENU_GONGJI_OPEN"),
        ("VIEW", "https://example.com/", "event", "view"),
        ("SCAN", "123", "event", "scan"),
        ("LOCATION", None, "event", "location"),
        ("TEMPLATESENDJOBFINISH", None, "event", "templatesendjobfinish"),
    ],
)
def test_events_map_to_their_kind(name, key, kind, text):
    incoming = to_incoming(read_message(event(name, key)))
    assert (incoming.kind, incoming.text) == (kind, text)


def test_an_event_is_keyed_by_sender_time_and_event_without_revealing_the_openid():
    first = to_incoming(read_message(event("CLICK", "MENU_A"))).message_id
    assert first == to_incoming(read_message(event("CLICK", "MENU_A"))).message_id  # WeChat's retry
    assert first != to_incoming(read_message(event("CLICK", "MENU_B"))).message_id
    assert first != to_incoming(read_message(event("subscribe"))).message_id
    later = HEAD.replace("1700000000", "1700000001")
    assert first != to_incoming(read_message(event("CLICK", "MENU_A", head=later))).message_id
    assert "o_user" not in first


@pytest.mark.parametrize("content", ["普通回答", "a]]>b", "]]>", "<b>&amp;</b> ]]]]> <![CDATA[x]]>", "行一\n行二"])
def test_the_reply_swaps_sender_and_receiver_and_keeps_any_text(content):
    reply = xmltodict.parse(render_text(read_message(text()), content))["xml"]
    assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == ("o_user", "gh_account", "text")
    assert reply["CreateTime"].isdigit()
    assert reply["Content"] == content


def test_hostile_user_names_cannot_break_out_of_the_reply():
    head = HEAD.replace("<![CDATA[o_user]]>", "o]]&gt;&lt;MsgType&gt;news&lt;/MsgType&gt;&lt;x&gt;")
    reply = xmltodict.parse(render_text(read_message(text().replace(HEAD, head)), "ok"))["xml"]
    assert reply["ToUserName"] == "o]]><MsgType>news</MsgType><x>"
    assert reply["MsgType"] == "text"
