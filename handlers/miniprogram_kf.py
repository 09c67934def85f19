"""/wechat/miniprogram: the mini-program's customer-service chat (小程序客服消息), answered through WeChat's API.

WeChat pushes each message there (消息推送, XML or JSON, plaintext, compatible or safe mode, signed like the
official account). The push is answered `success` as soon as the turn is done, and the reply goes out through the
customer-service send API with the mini-program's own access token, within what WeChat still allows the user
(bot.send_window). Only a transfer to the staff (人工) is a passive reply.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request

from bot import Bot
from bot.delivery import Compose, LateReplies, Outgoing, PageCard, Send, text_pages
from bot.messages import Incoming, Reply
from bot.send_window import Allowance, SendWindow

from . import miniprogram_push, wechat_push
from .wechat_api import WeChatApi, send_through
from .wechat_push import PushKeys, Rejected
from .wechat_xml import field

log = logging.getLogger(__name__)

blueprint = Blueprint("miniprogram_kf", __name__)
wechat_push.register_errors(blueprint, "miniprogram")

#: What WeChat allows after each user action (客服消息下发条件); the allowances do not add up.
AFTER_MESSAGE = Allowance(messages=5, seconds=48 * 3600)
AFTER_ENTERING = Allowance(messages=2, seconds=60)
#: A temporary image (the cards' thumbnail) lives 3 days at WeChat; it is uploaded again after 2.
THUMB_SECONDS = 2 * 24 * 3600
#: The card's thumbnail when MINIPROGRAM_CARD_IMAGE is empty.
DEFAULT_CARD_IMAGE = Path(__file__).resolve().parent.parent / "static" / "miniprogram-card.png"


def push_keys() -> PushKeys:
    """The mini-program console's 消息推送配置, and its AppID."""
    config = current_app.config
    return PushKeys(
        name="miniprogram",
        prefix="MINIPROGRAM_PUSH",
        token=config["MINIPROGRAM_PUSH_TOKEN"],
        aes_key=config["MINIPROGRAM_PUSH_AES_KEY"],
        app_id=config["MINIPROGRAM_APP_ID"],
        allow_plaintext=config["MINIPROGRAM_PUSH_ALLOW_PLAINTEXT"],
        tolerance=int(config["WECHAT_TIMESTAMP_TOLERANCE"]),
    )


@blueprint.before_request
def require_token() -> None:
    push_keys().require_token()


@blueprint.get("/wechat/miniprogram")
def verify_url():
    """WeChat's URL check when the mini-program console saves the push address."""
    return wechat_push.echo_url_check(push_keys())


@blueprint.post("/wechat/miniprogram")
def receive():
    """One message or event; `success` once the turn is done (the reply follows through the API), or a transfer."""
    keys = push_keys()
    body = request.get_data()
    kind = miniprogram_push.data_format(body)
    encrypt_type = request.args.get("encrypt_type", "raw")
    if encrypt_type == "aes":
        crypto = wechat_push.crypto(keys)
        encrypt = field(miniprogram_push.parse(body, kind), "Encrypt")
        message = miniprogram_push.read_message(wechat_push.decrypt(keys, crypto, encrypt), kind)
    elif encrypt_type == "raw":
        crypto = None
        message = miniprogram_push.read_message(wechat_push.plaintext_body(keys), kind)
    else:
        raise Rejected(400, "unknown encrypt_type")
    incoming = miniprogram_push.to_incoming(message)
    late: LateReplies = current_app.extensions["miniprogram_replies"]
    if incoming.kind != "event":
        late.window_opened(incoming, AFTER_ENTERING if incoming.kind == "enter" else AFTER_MESSAGE)
    timeout = float(current_app.config["WECHAT_REPLY_TIMEOUT"])
    reply = wechat_push.turn_within(incoming, timeout, late, carries_reply=False)
    outcome = _answer(incoming, reply, late)
    log.info(
        "miniprogram_message: format=%s encrypted=%s kind=%s reply=%s", kind, crypto is not None, incoming.kind, outcome
    )
    if outcome != "transfer":
        return Response("success", mimetype="text/plain")
    reply_body = miniprogram_push.render_transfer(message, kind)
    if crypto is not None:
        encrypted = crypto.encrypt_message(reply_body, wechat_push.reply_nonce())
        reply_body = encrypted if kind == "xml" else miniprogram_push.json_envelope(encrypted)
    return Response(reply_body, mimetype="application/xml" if kind == "xml" else "application/json")


def _answer(incoming: Incoming, reply: Reply | None, late: LateReplies) -> str:
    """Hand the reply to the sender (once for all deliveries of the message), or say it is a transfer."""
    if reply is None:
        return "late"  # turn_within handed it over: it is sent when the turn ends
    if reply.text is None:
        return "none"
    if reply.extra.get("handoff") and current_app.config["MINIPROGRAM_KF_TRANSFER"] and late.may_reply(incoming):
        return "transfer"
    done: Future = Future()
    done.set_result(reply)
    late.hand_over(incoming, done)
    return "sent"


def compose(bot: Bot, cards: bool) -> Compose:
    """The messages for a reply: its pages; a card to the FAQ page after the text-only reply, or for what did not
    fit in the messages left (with `cards`: MINIPROGRAM_FAQ_PAGE set)."""

    def messages(reply: Reply, room: int | None) -> list[Outgoing]:
        pages = text_pages(reply, None)
        if not cards:
            return pages if room is None else pages[:room]
        if reply.action == "media":
            wanted = [*pages, PageCard(bot.conversation().replies.fill("faq_card_title"))]
            return wanted if room is None else wanted[:room]
        if room is None or len(pages) <= room:
            return pages
        title = reply.extra.get("title") or bot.conversation().replies.fill("faq_card_title")
        return [*pages[: room - 1], PageCard(title, reply.faq_id)] if room else []

    return messages


def customer_service(api: WeChatApi, page: str, image: Path) -> Send:
    """Send a text, or a card opening `page` (with ?id=<faq> when it names one), as a customer-service message."""

    def thumb_media_id() -> str:
        media_id = api.session.get("card_thumb")
        if media_id is None:
            uploaded = api.media.upload("image", (image.name, image.read_bytes()))
            media_id = uploaded["media_id"]
            api.session.set("card_thumb", media_id, THUMB_SECONDS)
        return media_id

    def send(openid: str, message: Outgoing) -> None:
        if isinstance(message, PageCard):
            path = page + (f"?id={message.faq_id}" if message.faq_id else "")
            send_through(
                lambda: api.message.send_mini_program_page(
                    openid, {"title": message.title, "pagepath": path, "thumb_media_id": thumb_media_id()}
                )
            )
        else:
            send_through(lambda: api.message.send_text(openid, message))

    return send


def init_app(app: Flask) -> None:
    """The mini-program's own API client (its own token) when its AppID and AppSecret are set, and the sender."""
    config, bot = app.config, app.extensions["bot"]
    client = None
    if config["MINIPROGRAM_APP_ID"] and config["MINIPROGRAM_SECRET"] and config["MINIPROGRAM_LOGIN"] != "alipay":
        app_id, secret = config["MINIPROGRAM_APP_ID"], config["MINIPROGRAM_SECRET"]
        client = WeChatApi(app_id, secret, config["WECHAT_API_BASE"], bot.shared_values, prefix="miniprogram")
    app.extensions["miniprogram_api"] = client
    page = config["MINIPROGRAM_FAQ_PAGE"].lstrip("/")
    image = Path(config["MINIPROGRAM_CARD_IMAGE"] or DEFAULT_CARD_IMAGE)
    app.extensions["miniprogram_replies"] = LateReplies(
        lambda: bot.records_db,
        bot.salt,
        customer_service(client, page, image) if client is not None else None,
        marks=bot.shared,
        unconfigured="no customer-service API configured (MINIPROGRAM_APP_ID or MINIPROGRAM_SECRET is empty)",
        window=SendWindow(lambda: bot.records_db, "miniprogram"),
        compose=compose(bot, cards=bool(page)),
    )
