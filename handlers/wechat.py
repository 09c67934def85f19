"""/wechat for the official account: verify, decrypt, parse → Incoming → bot.respond → reply XML."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from . import wechat_push, wechat_xml
from .wechat_push import PushKeys, Rejected

log = logging.getLogger(__name__)

blueprint = Blueprint("wechat", __name__)
wechat_push.register_errors(blueprint, "wechat")


def push_keys() -> PushKeys:
    """The official account's console settings (基本配置 → 服务器配置)."""
    config = current_app.config
    return PushKeys(
        name="wechat",
        prefix="WECHAT",
        token=config["WECHAT_TOKEN"],
        aes_key=config["WECHAT_AES_KEY"],
        app_id=config["WECHAT_APP_ID"],
        allow_plaintext=config["WECHAT_ALLOW_PLAINTEXT"],
        tolerance=int(config["WECHAT_TIMESTAMP_TOLERANCE"]),
    )


@blueprint.before_request
def require_token() -> None:
    push_keys().require_token()


@blueprint.get("/wechat")
def verify_url():
    """WeChat's URL check when the console saves the server address."""
    return wechat_push.echo_url_check(push_keys())


@blueprint.post("/wechat")
def receive():
    """One message or event, plaintext or (compatible and safe mode) encrypted; the reply goes back the same way."""
    keys = push_keys()
    encrypt_type = request.args.get("encrypt_type", "raw")
    if encrypt_type == "aes":
        crypto = wechat_push.crypto(keys)
        encrypt = wechat_xml.field(wechat_xml.parse(request.get_data()), "Encrypt")
        message = wechat_xml.read_message(wechat_push.decrypt(keys, crypto, encrypt))
    elif encrypt_type == "raw":
        crypto = None
        message = wechat_xml.read_message(wechat_push.plaintext_body(keys))
    else:
        raise Rejected(400, "unknown encrypt_type")
    incoming = wechat_xml.to_incoming(message)
    late = current_app.extensions["late_replies"]
    reply = wechat_push.turn_within(incoming, float(current_app.config["WECHAT_REPLY_TIMEOUT"]), late)
    text = reply.text if reply is not None and late.may_reply(incoming) else None
    transfer = text is not None and reply.extra.get("handoff") and current_app.config["WECHAT_KF_TRANSFER"]
    log.info(
        "wechat_message: encrypted=%s kind=%s reply=%s",
        crypto is not None,
        incoming.kind,
        "none" if text is None else "transfer" if transfer else "text",
    )
    if text is None:
        return Response("success", mimetype="text/plain")
    xml = wechat_xml.render_transfer(message) if transfer else wechat_xml.render_text(message, text)
    if crypto is not None:
        xml = crypto.encrypt_message(xml, wechat_push.reply_nonce())
    return Response(xml, mimetype="application/xml")
