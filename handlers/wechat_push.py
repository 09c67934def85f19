"""What every push from WeChat's server must pass: signature, replay window, plaintext rule, decryption.

The official account (/wechat) and the mini-program's customer-service chat (/wechat/miniprogram) are signed
and encrypted the same way, each with its own console settings (`PushKeys`). Refusals are `Rejected`, turned
into a status by `register_errors` on each blueprint: never a 500, never the body in the log.
"""

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
from dataclasses import dataclass
from http import HTTPStatus

from flask import Blueprint, Response, current_app, request
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, WeChatException
from wechatpy.utils import WeChatSigner
from werkzeug.exceptions import HTTPException

from bot.delivery import LateReplies
from bot.messages import Incoming, Reply
from bot.storage import StorageError

from . import wechat_xml

log = logging.getLogger(__name__)

#: What wechatpy's decryption raises on a payload that is not ours: bad base64, block size, padding, length.
_UNDECRYPTABLE = (WeChatException, ValueError, IndexError, struct.error)


class Rejected(Exception):
    """A request to refuse: `status` goes back to the sender, the reason to the log only."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class PushKeys:
    """One console's push settings (服务器配置 / 消息推送配置), read from app.config's `<prefix>_*` settings."""

    name: str  # "wechat" or "miniprogram": replay keys and log lines
    prefix: str  # "WECHAT" or "MINIPROGRAM_PUSH": the settings, named in the log when one is missing
    token: str
    aes_key: str
    app_id: str
    allow_plaintext: bool
    tolerance: int  # seconds a signed request stays valid; 0 = no replay window

    def require_token(self) -> None:
        """Secrets have no default: the endpoint is unavailable until the console's token is configured."""
        if not self.token:
            raise Rejected(503, f"{self.prefix}_TOKEN is not set")


def signature_of(token: str, *values: str) -> str:
    """WeChat's signature: sha1 over the sorted token, timestamp, nonce (and, encrypted, the Encrypt text)."""
    signer = WeChatSigner()
    signer.add_data(token, *values)
    return signer.signature


def check_signature(keys: PushKeys, signature: str | None, *signed: str) -> None:
    """Refuse (403) unless `signature` is ours over the query's timestamp and nonce and the timestamp is fresh."""
    timestamp, nonce = request.args.get("timestamp", ""), request.args.get("nonce", "")
    expected = signature_of(keys.token, timestamp, nonce, *signed)
    # Bytes: compare_digest refuses str with non-ASCII characters, which a forged query may carry.
    if not hmac.compare_digest(expected.encode(), (signature or "").encode()):
        raise Rejected(403, "signature mismatch")
    if keys.tolerance and not (timestamp.isdigit() and abs(time.time() - int(timestamp)) <= keys.tolerance):
        raise Rejected(403, "timestamp outside the replay window")


def echo_url_check(keys: PushKeys) -> Response:
    """WeChat's URL check when a console saves the server address: echo echostr if the signature is ours."""
    check_signature(keys, request.args.get("signature"))
    echostr = request.args.get("echostr")
    if echostr is None:
        raise Rejected(400, "URL check without echostr")
    return Response(echostr, mimetype="text/plain")


def plaintext_body(keys: PushKeys) -> bytes:
    """A plaintext push's body once its query is signed by us, and not replayed with another body."""
    refuse_plaintext_in_safe_mode(keys)
    signature = request.args.get("signature")
    check_signature(keys, signature)
    body = request.get_data()  # within MAX_CONTENT_LENGTH even when chunked (`limits` checked it)
    refuse_replay_with_another_body(keys, signature, body)
    return body


def refuse_replay_with_another_body(keys: PushKeys, signature: str, body: bytes) -> None:
    """Plaintext mode signs the query, not the body: a signed query seen before must come with the same body.

    WeChat's own retries resend the same body, so they pass (and get the stored reply by MsgId).
    """
    key = f"{keys.name}:{request.args.get('timestamp')}:{request.args.get('nonce')}:{signature}"
    if not current_app.extensions["bot"].same_content_as_before(key, hashlib.sha256(body).hexdigest()):
        raise Rejected(403, "signed query replayed with another body")


def refuse_plaintext_in_safe_mode(keys: PushKeys) -> None:
    """With an EncodingAESKey only encrypted messages are read: a plaintext body is signed by nobody.

    `allow_plaintext` lets them in while the console is switched from plaintext to safe mode.
    """
    if keys.aes_key and not keys.allow_plaintext:
        raise Rejected(
            403, f"plaintext message while {keys.prefix}_AES_KEY is set ({keys.prefix}_ALLOW_PLAINTEXT is off)"
        )


def crypto(keys: PushKeys) -> WeChatCrypto:
    if not (is_aes_key(keys.aes_key) and keys.app_id):
        raise Rejected(503, f"encrypted message, but {keys.prefix}_AES_KEY or the AppID is missing or invalid")
    return WeChatCrypto(keys.token, keys.aes_key, keys.app_id)


def is_aes_key(key: str) -> bool:
    """An EncodingAESKey is 43 base64 characters for 32 bytes of AES key."""
    try:
        return len(base64.b64decode(key + "=", validate=True)) == 32
    except binascii.Error:
        return False


def decrypt(keys: PushKeys, cipher: WeChatCrypto, encrypt: str) -> str:
    """The message inside `encrypt`, once msg_signature proves it ours; a plaintext copy beside it is ignored."""
    msg_signature = request.args.get("msg_signature")
    check_signature(keys, msg_signature, encrypt)
    timestamp, nonce = request.args.get("timestamp", ""), request.args.get("nonce", "")
    try:
        return cipher.decrypt_message({"Encrypt": encrypt}, msg_signature, timestamp, nonce)
    except InvalidAppIdException:
        raise Rejected(400, "payload is for another AppID") from None
    except _UNDECRYPTABLE as exc:
        raise Rejected(400, f"undecryptable payload ({type(exc).__name__})") from None


def reply_nonce() -> str:
    """Our own nonce for an encrypted reply, not the request's: wechatpy writes it into the reply unescaped."""
    return str(secrets.randbelow(10**10))


def plain(status: int) -> Response:
    return Response(HTTPStatus(status).phrase, status=status, mimetype="text/plain")


def register_errors(blueprint: Blueprint, name: str) -> None:
    """Each refusal becomes its status, logged as `<name>_rejected` with the reason; never a 500."""

    @blueprint.errorhandler(Rejected)
    def rejected(error: Rejected):
        """The status for the sender, the reason for the operator; never the body, openid or text."""
        log.warning("%s_rejected: status=%d reason=%s", name, error.status, error)
        return plain(error.status)

    @blueprint.errorhandler(wechat_xml.XmlError)
    def bad_body(error: wechat_xml.XmlError):
        """Malformed or hostile XML or JSON, in the body or inside Encrypt."""
        log.warning("%s_rejected: status=400 reason=%s", name, error)
        return plain(400)

    @blueprint.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        """Werkzeug's own refusals (413 above all) keep their status, and are logged like ours."""
        log.warning("%s_rejected: status=%s reason=%s", name, error.code, error.name)
        return error

    @blueprint.errorhandler(StorageError)
    def storage_failed(error: StorageError):
        """The database could not take the turn (the bot logged it as message_failed): WeChat will retry."""
        log.warning("%s_rejected: status=503 reason=database unavailable (%s)", name, error)
        return plain(503)

    @blueprint.errorhandler(Exception)
    def failed(error: Exception):
        """Never a 500 from a push endpoint."""
        # Whatever breaks outside the bot's own turn (the database, a bug here): log it and answer 503,
        # so WeChat retries and, if every try fails, tells the user the service is unavailable.
        log.exception("%s_failed: %s", name, type(error).__name__)
        return plain(503)


#: Turns run here so a slow one can outlive its request: it finishes, and its reply is delivered later.
_workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="wechat-turn")


def turn_within(incoming: Incoming, timeout: float, late: LateReplies, carries_reply: bool = True) -> Reply | None:
    """The turn's reply if ready within `timeout` seconds; else None, and `late` delivers it when the turn ends.

    `carries_reply`: this request's reply may carry a late answer, so the sender waits for it until the timeout.
    A turn the database could not take raises StorageError: 503, and WeChat's retry does the turn again.
    """
    if carries_reply:
        late.waiting(incoming, time.time() + timeout)
    future = _workers.submit(current_app.extensions["bot"].respond, incoming)
    try:
        return future.result(timeout=timeout)
    except TimeoutError:
        log.warning(
            "%s_reply_late: kind=%s timeout=%.1fs; answering success, the reply follows as a customer-service message",
            incoming.channel,
            incoming.kind,
            timeout,
        )
        late.hand_over(incoming, future)
        return None
