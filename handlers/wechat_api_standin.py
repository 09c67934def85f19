"""A loopback stand-in for WeChat's API server (api.weixin.qq.com), for the tests and `wechat send --slow`.

It speaks the real endpoints, JSON shapes and error codes of the calls this project makes: `cgi-bin/token`,
`menu/create|get|delete`, `media/upload` and `message/custom/send` (text and mini-program page cards). It is
strict where WeChat is: a new token makes the one before it invalid at once (WeChat keeps it 5 more minutes),
tokens expire, menus over the limits are refused, customer-service messages need the user's last message within
48 hours (45015) and at most 5 follow it (45047); opening a mini-program's chat allows 2 within a minute.
Failures can be queued per endpoint. One stand-in plays one account: the official account or the mini-program.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, Response, request
from werkzeug.serving import make_server

#: WeChat's menu limits: buttons, sub-buttons, and bytes per field.
TOP_BUTTONS, SUB_BUTTONS = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES, KEY_BYTES, URL_BYTES = 16, 60, 128, 1024
#: A customer-service text over this many bytes is refused (45002).
CUSTOM_TEXT_BYTES = 2048
#: A user may be sent this many customer-service messages within this long after their last message.
WINDOW_MESSAGES, WINDOW_SECONDS = 5, 48 * 3600
#: … and this many within this long after opening a mini-program's customer-service chat.
ENTER_MESSAGES, ENTER_SECONDS = 2, 60


class MenuRefused(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class WeChatApiStandIn:
    """WeChat's API for one official account; inspect `token_fetches`, `menu` and `sent` after the calls."""

    app_id: str
    secret: str
    token_life: int = 7200
    ip_allowed: bool = True
    token_fetches: int = 0
    menu: dict | None = None
    sent: list[tuple[str, str]] = field(default_factory=list)  # (openid, text) of each customer-service message
    cards: list[tuple[str, dict]] = field(default_factory=list)  # (openid, miniprogrampage) of each card sent
    media: dict[str, bytes] = field(default_factory=dict)  # media_id → the uploaded file
    last_message_at: dict[str, float] = field(default_factory=dict)  # openid → when WeChat last heard from them
    entered_at: dict[str, float] = field(default_factory=dict)  # openid → when they last opened the chat
    left: dict[str, int] = field(default_factory=dict)  # openid → customer-service messages still allowed
    send_delay: float = 0.0  # seconds each customer-service send takes
    _tokens: dict[str, float] = field(default_factory=dict)  # the current token → its expiry
    _failures: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, endpoint: str, code: int, message: str = "system error") -> None:
        """The next call to `endpoint` (e.g. "message/custom/send") answers with this error code."""
        with self._lock:
            self._failures[endpoint].append((code, message))

    def expire_tokens(self) -> None:
        """Every token handed out so far has expired (42001 from now on)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def user_wrote(self, openid: str, seconds_ago: float = 0.0) -> None:
        """WeChat received a message from `openid`: 5 customer-service messages to them are allowed for 48 hours."""
        with self._lock:
            self.last_message_at[openid] = time.time() - seconds_ago
            self.left[openid] = max(self.left.get(openid, 0), WINDOW_MESSAGES)

    def user_entered(self, openid: str) -> None:
        """`openid` opened the mini-program's customer-service chat: 2 messages within a minute."""
        with self._lock:
            self.entered_at[openid] = time.time()
            self.left[openid] = max(self.left.get(openid, 0), ENTER_MESSAGES)

    def revoke_tokens(self) -> None:
        """Every token handed out so far is no longer the latest (40001 from now on), as after another fetch."""
        with self._lock:
            self._tokens = {}

    def app(self) -> Flask:
        app = Flask(__name__)

        @app.get("/cgi-bin/token")
        def token():
            return self._answer("token", self._token)

        @app.post("/cgi-bin/menu/create")
        def menu_create():
            return self._answer("menu/create", self._menu_create, authorised=True)

        @app.get("/cgi-bin/menu/get")
        def menu_get():
            return self._answer("menu/get", self._menu_get, authorised=True)

        @app.get("/cgi-bin/menu/delete")
        def menu_delete():
            return self._answer("menu/delete", self._menu_delete, authorised=True)

        @app.post("/cgi-bin/media/upload")
        def media_upload():
            return self._answer("media/upload", self._media_upload, authorised=True)

        @app.post("/cgi-bin/message/custom/send")
        def custom_send():
            return self._answer("message/custom/send", self._custom_send, authorised=True)

        return app

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve on a free loopback port; yields the base address to set as WECHAT_API_BASE."""
        server = make_server("127.0.0.1", 0, self.app(), threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    # Each endpoint returns WeChat's JSON; errors are {"errcode", "errmsg"} with HTTP 200, as WeChat sends them.

    def _answer(self, endpoint: str, handler, authorised: bool = False) -> Response:
        with self._lock:
            queued = self._failures[endpoint].popleft() if self._failures[endpoint] else None
        if queued is not None:
            return _error(*queued)
        if authorised:
            refusal = self._check_token(request.args.get("access_token"))
            if refusal is not None:
                return refusal
        return handler()

    def _token(self) -> Response:
        args = request.args
        if args.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if args.get("appid") != self.app_id:
            return _error(40013, "invalid appid")
        if args.get("secret") != self.secret:
            return _error(40125, "invalid appsecret")
        if not self.ip_allowed:
            address = request.remote_addr
            return _error(40164, f"invalid ip {address} ipv6 ::ffff:{address}, not in whitelist")
        with self._lock:
            self.token_fetches += 1
            new = secrets.token_urlsafe(48)
            self._tokens = {new: time.time() + self.token_life}  # the token before it stops working
        return _json({"access_token": new, "expires_in": self.token_life})

    def _check_token(self, token: str | None) -> Response | None:
        if not token:
            return _error(41001, "access_token missing")
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if expiry <= time.time():
            return _error(42001, "access_token expired")
        return None

    def _menu_create(self) -> Response:
        data = _body()
        if not isinstance(data, dict) or not isinstance(data.get("button"), list):
            return _error(47001, "data format error")
        try:
            menu = {"button": [_button(b, top=True) for b in _sized(data["button"], TOP_BUTTONS, 40016, "button")]}
        except MenuRefused as exc:
            return _error(exc.code, str(exc))
        with self._lock:
            self.menu = menu
        return _error(0, "ok")

    def _menu_get(self) -> Response:
        with self._lock:
            menu = self.menu
        if menu is None:
            return _error(46003, "menu no exist")
        return _json({"menu": menu})

    def _menu_delete(self) -> Response:
        with self._lock:
            self.menu = None
        return _error(0, "ok")

    def _media_upload(self) -> Response:
        upload = request.files.get("media")
        if request.args.get("type") != "image" or upload is None:
            return _error(40004, "invalid media type")
        media_id = secrets.token_urlsafe(32)
        with self._lock:
            self.media[media_id] = upload.read()
        return _json({"type": "image", "media_id": media_id, "created_at": int(time.time())})

    def _custom_send(self) -> Response:
        if self.send_delay:
            time.sleep(self.send_delay)
        data = _body()
        if not isinstance(data, dict) or not isinstance(data.get(data.get("msgtype") or "?"), dict):
            return _error(47001, "data format error")
        openid, kind = data.get("touser") or "", data["msgtype"]
        if not openid:
            return _error(40003, "invalid openid")
        if kind == "text":
            content = data["text"].get("content") or ""
            if not content:
                return _error(44002, "empty post data")
            if len(content.encode("utf-8")) > CUSTOM_TEXT_BYTES:
                return _error(45002, "content size out of limit")
        elif kind == "miniprogrampage":
            card = data["miniprogrampage"]
            if not (card.get("title") and card.get("pagepath")) or card.get("thumb_media_id") not in self.media:
                return _error(40007, "invalid media_id")
        else:
            return _error(40008, "invalid message type")
        with self._lock:
            now, last, entered = time.time(), self.last_message_at.get(openid), self.entered_at.get(openid)
            if not (last is not None and now - last <= WINDOW_SECONDS) and not (
                entered is not None and now - entered <= ENTER_SECONDS
            ):
                return _error(45015, "response out of time limit or subscription is canceled")
            if self.left.get(openid, WINDOW_MESSAGES) <= 0:
                return _error(45047, "out of response count limit")
            self.left[openid] = self.left.get(openid, WINDOW_MESSAGES) - 1
            if kind == "text":
                self.sent.append((openid, content))
            else:
                self.cards.append((openid, card))
        return _error(0, "ok")


def _sized(items: object, most: int, code: int, what: str) -> list:
    if not isinstance(items, list) or not 1 <= len(items) <= most:
        raise MenuRefused(code, f"invalid {what} size")
    return items


def _button(button: object, top: bool) -> dict:
    """One button as WeChat stores it (and returns it from menu/get), or MenuRefused with WeChat's code."""
    if not isinstance(button, dict):
        raise MenuRefused(47001, "data format error")
    name = button.get("name") or ""
    if not name or len(name.encode("utf-8")) > (TOP_NAME_BYTES if top else SUB_NAME_BYTES):
        raise MenuRefused(40018 if top else 40025, f"invalid {'' if top else 'sub '}button name size")
    subs = button.get("sub_button") or []
    if top and subs:
        return {"name": name, "sub_button": [_button(s, top=False) for s in _sized(subs, SUB_BUTTONS, 40023, "sub")]}
    if subs:
        raise MenuRefused(40023, "invalid sub button size")
    kind = button.get("type")
    stored = {"type": kind, "name": name}
    if kind == "click":
        key = button.get("key") or ""
        if not key or len(key.encode("utf-8")) > KEY_BYTES:
            raise MenuRefused(40019 if top else 40026, f"invalid {'' if top else 'sub '}button key size")
        stored["key"] = key
    elif kind in ("view", "miniprogram"):
        url = button.get("url") or ""
        if not url.startswith(("http://", "https://")) or len(url.encode("utf-8")) > URL_BYTES:
            raise MenuRefused(40020 if top else 40027, f"invalid {'' if top else 'sub '}button url size")
        stored["url"] = url
        if kind == "miniprogram":
            if not button.get("appid") or not button.get("pagepath"):
                raise MenuRefused(40097, "invalid args")
            stored |= {"appid": button["appid"], "pagepath": button["pagepath"]}
    else:
        raise MenuRefused(40017, "invalid button type")
    return stored | {"sub_button": []}


def _body() -> object:
    try:
        return json.loads(request.get_data().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _error(code: int, message: str) -> Response:
    suffix = "" if code == 0 else f" rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"
    return _json({"errcode": code, "errmsg": message + suffix})


def _json(data: dict) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), mimetype="application/json")
