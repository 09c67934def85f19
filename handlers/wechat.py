"""/wechat for the official account: verify, decrypt, parse → Incoming → bot.respond → reply XML."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

from flask import Blueprint, Response, current_app, request
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, WeChatException
from wechatpy.utils import WeChatSigner
from werkzeug.exceptions import HTTPException

from bot.messages import Incoming, Reply
from bot.storage import StorageError

from . import wechat_xml

log = logging.getLogger(__name__)

blueprint = Blueprint("wechat", __name__)

#: Turns run here so a slow one can outlive its request: it finishes, and the bot stores the reply for a retry.
_workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="wechat-turn")

#: What wechatpy's decryption raises on a payload that is not ours: bad base64, block size, padding, length.
_UNDECRYPTABLE = (WeChatException, ValueError, IndexError, struct.error)


class Rejected(Exception):
    """A request to refuse: `status` goes back to the sender, the reason to the log only."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


@blueprint.before_request
def require_token() -> None:
    """Secrets have no default: /wechat is unavailable until the console's token is configured."""
    if not current_app.config["WECHAT_TOKEN"]:
        raise Rejected(503, "WECHAT_TOKEN is not set")


@blueprint.get("/wechat")
def verify_url():
    """WeChat's URL check when the console saves the server address: echo echostr if the signature is ours."""
    _check_signature(request.args.get("signature"))
    echostr = request.args.get("echostr")
    if echostr is None:
        raise Rejected(400, "URL check without echostr")
    return Response(echostr, mimetype="text/plain")


@blueprint.post("/wechat")
def receive():
    """One message or event, plaintext or (compatible and safe mode) encrypted; the reply goes back the same way."""
    encrypt_type = request.args.get("encrypt_type", "raw")
    if encrypt_type == "aes":
        crypto = _crypto()
        message = wechat_xml.read_message(_decrypt(crypto))
    elif encrypt_type == "raw":
        _refuse_plaintext_in_safe_mode()
        crypto = None
        signature = request.args.get("signature")
        _check_signature(signature)
        body = _body()
        _refuse_replay_with_another_body(signature, body)
        message = wechat_xml.read_message(body)
    else:
        raise Rejected(400, "unknown encrypt_type")
    incoming = wechat_xml.to_incoming(message)
    reply = _respond(incoming)
    text = reply.text if reply is not None else None
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
        # Our own nonce, not the request's: wechatpy writes it into the reply unescaped.
        xml = crypto.encrypt_message(xml, str(secrets.randbelow(10**10)))
    return Response(xml, mimetype="application/xml")


def signature_of(token: str, *values: str) -> str:
    """WeChat's signature: sha1 over the sorted token, timestamp, nonce (and, encrypted, the Encrypt text)."""
    signer = WeChatSigner()
    signer.add_data(token, *values)
    return signer.signature


def _check_signature(signature: str | None, *signed: str) -> None:
    """Refuse (403) unless `signature` is ours over the query's timestamp and nonce and the timestamp is fresh."""
    timestamp, nonce = request.args.get("timestamp", ""), request.args.get("nonce", "")
    expected = signature_of(current_app.config["WECHAT_TOKEN"], timestamp, nonce, *signed)
    # Bytes: compare_digest refuses str with non-ASCII characters, which a forged query may carry.
    if not hmac.compare_digest(expected.encode(), (signature or "").encode()):
        raise Rejected(403, "signature mismatch")
    tolerance = int(current_app.config["WECHAT_TIMESTAMP_TOLERANCE"])
    if tolerance and not (timestamp.isdigit() and abs(time.time() - int(timestamp)) <= tolerance):
        raise Rejected(403, "timestamp outside the replay window")


def _refuse_replay_with_another_body(signature: str, body: bytes) -> None:
    """Plaintext mode signs the query, not the body: a signed query seen before must come with the same body.

    WeChat's own retries resend the same body, so they pass (and get the stored reply by MsgId).
    """
    key = f"wechat:{request.args.get('timestamp')}:{request.args.get('nonce')}:{signature}"
    if not current_app.extensions["bot"].same_content_as_before(key, hashlib.sha256(body).hexdigest()):
        raise Rejected(403, "signed query replayed with another body")


def _refuse_plaintext_in_safe_mode() -> None:
    """With an EncodingAESKey only encrypted messages are read: a plaintext body is signed by nobody.

    WECHAT_ALLOW_PLAINTEXT lets them in while the console is switched from plaintext to safe mode.
    """
    config = current_app.config
    if config["WECHAT_AES_KEY"] and not config["WECHAT_ALLOW_PLAINTEXT"]:
        raise Rejected(403, "plaintext message while WECHAT_AES_KEY is set (WECHAT_ALLOW_PLAINTEXT is off)")


def _body() -> bytes:
    """The request body, within MAX_CONTENT_LENGTH even when chunked (`limits` checked it)."""
    return request.get_data()


def _crypto() -> WeChatCrypto:
    config = current_app.config
    if not (_is_aes_key(config["WECHAT_AES_KEY"]) and config["WECHAT_APP_ID"]):
        raise Rejected(503, "encrypted message, but WECHAT_AES_KEY or WECHAT_APP_ID is missing or invalid")
    return WeChatCrypto(config["WECHAT_TOKEN"], config["WECHAT_AES_KEY"], config["WECHAT_APP_ID"])


def _is_aes_key(key: str) -> bool:
    """An EncodingAESKey is 43 base64 characters for 32 bytes of AES key."""
    try:
        return len(base64.b64decode(key + "=", validate=True)) == 32
    except binascii.Error:
        return False


def _decrypt(crypto: WeChatCrypto) -> str:
    """The message inside Encrypt; compatible mode's plaintext copy beside it is ignored, being unsigned."""
    encrypt = wechat_xml.field(wechat_xml.parse(_body()), "Encrypt")
    msg_signature = request.args.get("msg_signature")
    _check_signature(msg_signature, encrypt)
    timestamp, nonce = request.args.get("timestamp", ""), request.args.get("nonce", "")
    try:
        return crypto.decrypt_message({"Encrypt": encrypt}, msg_signature, timestamp, nonce)
    except InvalidAppIdException:
        raise Rejected(400, "payload is for another AppID") from None
    except _UNDECRYPTABLE as exc:
        raise Rejected(400, f"undecryptable payload ({type(exc).__name__})") from None


def _respond(incoming: Incoming) -> Reply | None:
    """The reply to send now; None if not ready within WECHAT_REPLY_TIMEOUT (it follows as a 客服 message) or sent.

    A late turn goes on: its reply is stored, delivered once (customer-service API, or a retry of the same
    MsgId), and its outcome recorded (bot.delivery). A turn the database could not take raises StorageError:
    503, and WeChat's retry does the turn again.
    """
    timeout = float(current_app.config["WECHAT_REPLY_TIMEOUT"])
    late = current_app.extensions["late_replies"]
    late.waiting(incoming, time.time() + timeout)
    future = _workers.submit(current_app.extensions["bot"].respond, incoming)
    try:
        reply = future.result(timeout=timeout)
    except TimeoutError:
        log.warning(
            "wechat_reply_late: kind=%s timeout=%.1fs; answering success, the reply follows as a customer-service "
            "message",
            incoming.kind,
            timeout,
        )
        late.hand_over(incoming, future)
        return None
    return reply if late.may_reply(incoming) else None


def _plain(status: int) -> Response:
    return Response(HTTPStatus(status).phrase, status=status, mimetype="text/plain")


@blueprint.errorhandler(Rejected)
def rejected(error: Rejected):
    """The status for the sender, the reason for the operator; never the body, openid or text."""
    log.warning("wechat_rejected: status=%d reason=%s", error.status, error)
    return _plain(error.status)


@blueprint.errorhandler(wechat_xml.XmlError)
def bad_xml(error: wechat_xml.XmlError):
    """Malformed or hostile XML, in the body or inside Encrypt."""
    log.warning("wechat_rejected: status=400 reason=%s", error)
    return _plain(400)


@blueprint.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Werkzeug's own refusals (413 above all) keep their status, and are logged like ours."""
    log.warning("wechat_rejected: status=%s reason=%s", error.code, error.name)
    return error


@blueprint.errorhandler(StorageError)
def storage_failed(error: StorageError):
    """The database could not take the turn (the bot logged it as message_failed): WeChat will retry."""
    log.warning("wechat_rejected: status=503 reason=database unavailable (%s)", error)
    return _plain(503)


@blueprint.errorhandler(Exception)
def failed(error: Exception):
    """Never a 500 from /wechat."""
    # Whatever breaks outside the bot's own turn (the database, a bug here): log it and answer 503,
    # so WeChat retries and, if every try fails, tells the user the account is unavailable.
    log.exception("wechat_failed: %s", type(error).__name__)
    return _plain(503)
