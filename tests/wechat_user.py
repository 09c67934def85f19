"""WeChatUser: flaskr's AuthActions for WeChat, a follower whose messages WeChat's server signs and encrypts;
MiniProgramUser: the same for a mini-program's customer-service chat."""

from __future__ import annotations

import threading
import time

from handlers.wechat_platform import (
    Account,
    Delivery,
    PassiveReply,
    deliver,
    message_fields,
    message_xml,
    open_kf_reply,
    open_reply,
    render,
)

#: Tencent's own sample account (NOTES.md); its 2014 sample message decrypts with these.
TOKEN = "spamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx2c2769f8efd9abc2"

#: Tencent's 2014 sample (NOTES.md): a message WeChat itself encrypted, Content "abcdteT", MsgId 6054768590064713728.
SAMPLE_QUERY = {
    "timestamp": "1409735669",
    "nonce": "1320562132",
    "encrypt_type": "aes",
    "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
}
SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9Fr"
    "XpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGz"
    "jlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI"
    "1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
SAMPLE_USER, SAMPLE_ACCOUNT = "oyORnuP8q7ou2gfYjqLzSIWZf0rs", "gh_10f6c3c3ac5a"


def wechat_config(database=None, **overrides) -> dict:
    """create_app settings for a test app that WeChatUser can talk to; `database` or DATABASE=… in overrides."""
    return {
        "TESTING": True,
        **({"DATABASE": str(database)} if database is not None else {}),
        "KNOWLEDGE_RELOAD_SECONDS": 0,
        "USER_HASH_SALT": "test-salt-of-at-least-32-characters",
        "SECRET_KEY": "test-secret-key-of-at-least-32-characters",
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_APP_ID": APP_ID,
        **overrides,
    }


class WeChatUser:
    """One follower of the account: builds each message as WeChat would, posts it, opens the reply."""

    def __init__(self, client, openid: str = "o_test_follower"):
        self.client = client
        self.openid = openid
        config = client.application.config
        self.account = Account(config["WECHAT_TOKEN"], config["WECHAT_AES_KEY"], config["WECHAT_APP_ID"])
        self.response = None  # the last HTTP response, for status and headers
        # Build the matcher now (about 2-5 s on a busy machine), not inside the first message's 4.5 s reply window.
        client.application.extensions["knowledge"].current()

    def send(self, text: str, mode: str = "aes", msg_id: int | None = None) -> PassiveReply:
        """A text message; `msg_id` repeats a delivery the way WeChat retries it."""
        return self.message("text", {"Content": text}, mode, msg_id)

    def event(self, name: str, key: str | None = None, mode: str = "aes") -> PassiveReply:
        """An event such as "subscribe", "CLICK" or "VIEW", with its EventKey."""
        return self.message("event", {"Event": name, **({"EventKey": key} if key is not None else {})}, mode)

    def message(self, msg_type: str, fields: dict[str, str], mode: str = "aes", msg_id: int | None = None):
        """Any message type (voice, image, location…), answered with 200 and opened like WeChat does."""
        delivery = self.delivery(message_xml(self.account, self.openid, msg_type, fields, msg_id), mode)
        response = self.post(delivery)
        assert response.status_code == 200, (response.status_code, response.data[:200])
        return open_reply(self.account, delivery, response.data)

    def delivery(self, xml: str, mode: str = "aes", timestamp: int | None = None) -> Delivery:
        """The signed (and encrypted) POST for `xml`, to post as is or to tamper with first."""
        return deliver(self.account, self.openid, xml, mode, timestamp)

    def post(self, delivery: Delivery):
        self.response = self.client.post(
            "/wechat", query_string=delivery.query, data=delivery.body, content_type="text/xml"
        )
        return self.response


#: The mini-program's console settings in the tests (消息推送配置) and its own AppID and AppSecret.
MP_TOKEN = "miniprogramtoken"
MP_AES_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
MP_APP_ID, MP_SECRET = "wxminiprogram0001", "miniprogram-test-secret"


def miniprogram_config(database, api_base: str, **overrides) -> dict:
    """create_app settings for a test app whose mini-program chat MiniProgramUser can talk to."""
    return wechat_config(
        database,
        MINIPROGRAM_PUSH_TOKEN=MP_TOKEN,
        MINIPROGRAM_PUSH_AES_KEY=MP_AES_KEY,
        MINIPROGRAM_APP_ID=MP_APP_ID,
        MINIPROGRAM_SECRET=MP_SECRET,
        WECHAT_API_BASE=api_base,
        **overrides,
    )


class MiniProgramUser:
    """A user of the mini-program's customer-service chat: WeChat pushes their messages (XML or JSON) to the
    server and, as the send API's stand-in, receives what the server sends them."""

    def __init__(self, client, standin, openid: str, data_format: str = "json"):
        self.client, self.standin, self.openid, self.data_format = client, standin, openid, data_format
        config = client.application.config
        self.account = Account(
            config["MINIPROGRAM_PUSH_TOKEN"], config["MINIPROGRAM_PUSH_AES_KEY"], config["MINIPROGRAM_APP_ID"]
        )
        self.response = None
        client.application.extensions["knowledge"].current()

    def send(self, text: str, mode: str = "aes", msg_id: int | None = None) -> PassiveReply:
        """A text message; the user wrote, so WeChat allows 5 customer-service messages for 48 hours."""
        return self.message("text", {"Content": text}, mode, msg_id)

    def enter(self, mode: str = "aes", session_from: str = "") -> PassiveReply:
        """The user opened the chat with the mini-program's contact button."""
        self.standin.user_entered(self.openid)
        fields = {"Event": "user_enter_tempsession", "SessionFrom": session_from}
        return self.post_checked(self.delivery(message_fields(self.account, self.openid, "event", fields), mode))

    def message(self, msg_type: str, fields: dict[str, str], mode: str = "aes", msg_id: int | None = None):
        self.standin.user_wrote(self.openid)
        elements = message_fields(self.account, self.openid, msg_type, fields, msg_id)
        return self.post_checked(self.delivery(elements, mode))

    def delivery(self, elements: dict, mode: str = "aes", timestamp: int | None = None) -> Delivery:
        text = render(elements, self.data_format)
        return deliver(self.account, self.openid, text, mode, timestamp, self.data_format)

    def post_checked(self, delivery: Delivery) -> PassiveReply:
        response = self.post(delivery)
        assert response.status_code == 200, (response.status_code, response.data[:200])
        return open_kf_reply(self.account, delivery, response.data)

    def post(self, delivery: Delivery):
        content_type = "application/json" if delivery.data_format == "json" else "text/xml"
        self.response = self.client.post(
            "/wechat/miniprogram", query_string=delivery.query, data=delivery.body, content_type=content_type
        )
        return self.response

    def received(self) -> list[str]:
        """The texts sent to this user through the customer-service API so far."""
        return [text for openid, text in self.standin.sent if openid == self.openid]

    def cards(self) -> list[dict]:
        return [card for openid, card in self.standin.cards if openid == self.openid]


class SlowBot:
    """The real bot, each turn held back until `gate` opens (or for `delay` seconds), as a very slow turn."""

    def __init__(self, bot, delay: float = 10.0):
        self.bot, self.delay, self.gate = bot, delay, threading.Event()

    def respond(self, incoming):
        self.gate.wait(self.delay)
        return self.bot.respond(incoming)

    def __getattr__(self, name: str):
        return getattr(self.bot, name)  # replay checks and the rest, as the bot does them


def eventually(check, seconds: float = 15.0):
    """`check()`'s first true result, tried until `seconds` have passed (replies sent in the background)."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return found
