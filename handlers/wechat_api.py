"""WeChat's server API (menu, customer-service messages) with one access token per account shared by every worker.

wechatpy's `WeChatClient` makes the calls; its token lives in a wechatpy `SessionStorage` on the project's
database, so every worker process (and every host on the same database) uses the same token. `cgi-bin/token`
invalidates the token before it, so fetching is single flight: one worker takes a lease and fetches, the
others wait for its token. A call refused for an invalid or expired token (40001, 42001, 40014) refreshes the
token, unless another worker already did, and is retried once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from bot.delivery import LateReplies, Send, SendFailed, SendRefused
from bot.storage.shared import SharedValues

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://api.weixin.qq.com"
#: WeChat's codes for an access token that is wrong, expired or no longer the latest.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
#: Seconds one worker may spend fetching a token before another may try.
FETCH_LEASE_SECONDS = 15.0
#: Seconds a token is refreshed before WeChat's expiry (at most a tenth of its life).
REFRESH_MARGIN_SECONDS = 300.0
#: Seconds each HTTP call to WeChat may take.
HTTP_TIMEOUT_SECONDS = 10.0
#: What WeChat means by the codes an operator is most likely to meet.
HINTS = {
    40013: "WECHAT_APP_ID is not a valid AppID",
    40125: "WECHAT_APP_SECRET is wrong (公众号后台 → 设置与开发 → 基本配置 → AppSecret)",
    40164: "this server's IP address is not in the IP白名单 (公众号后台 → 基本配置 → IP白名单)",
    61004: "this server's IP address is not in the IP白名单 (公众号后台 → 基本配置 → IP白名单)",
    45015: "the user's last message is more than 48 hours old (or they unfollowed)",
    45047: "too many customer-service messages since the user's last message",
    48001: "the account may not use this API (customer-service messages need a verified service account)",
}


class ApiError(Exception):
    """WeChat answered with an error code, or could not be reached (`code` None)."""

    def __init__(self, code: int | None, message: str):
        text = message if code is None else f"WeChat error {code}: {message}"
        if code in HINTS:
            text += f" ({HINTS[code]})"
        super().__init__(text)
        self.code = code
        self.message = message


class TokenStorage(SessionStorage):
    """wechatpy's session storage on the values every worker shares (the database, or Redis): one token for all."""

    def __init__(self, values: SharedValues, prefix: str = "wechat"):
        self.values = values
        self.prefix = prefix

    def get(self, key, default=None):
        value = self.values.get_value(f"{self.prefix}:{key}")
        return default if value is None else value

    def set(self, key, value, ttl=None):
        if value is None:
            return
        life = float(ttl) if ttl else 7200.0
        # Stored as expiring before WeChat's expiry, so a worker never sends a token in its last minutes.
        self.values.set_value(f"{self.prefix}:{key}", str(value), life - min(REFRESH_MARGIN_SECONDS, life / 10))

    def delete(self, key):
        self.values.delete_value(f"{self.prefix}:{key}")

    def delete_if(self, key: str, value: str) -> bool:
        """Forget the token only while it is still `value` (another worker may have replaced it already)."""
        return self.values.delete_value(f"{self.prefix}:{key}", only_if=value)

    def lease(self, key: str) -> str | None:
        return self.values.take_lease(f"{self.prefix}:lease:{key}", FETCH_LEASE_SECONDS)

    def release(self, key: str, owner: str) -> None:
        self.values.release_lease(f"{self.prefix}:lease:{key}", owner)


class WeChatApi(WeChatClient):
    """wechatpy's client pointed at `base` (WECHAT_API_BASE), sharing its token through the database.

    The official account and the mini-program each have their own (`prefix` keeps their tokens apart).
    """

    def __init__(self, app_id: str, secret: str, base: str, values: SharedValues, prefix: str = "wechat"):
        session = TokenStorage(values, prefix)
        super().__init__(app_id, secret, session=session, timeout=HTTP_TIMEOUT_SECONDS, auto_retry=False)
        self.base = base.rstrip("/")
        self.API_BASE_URL = f"{self.base}/cgi-bin/"
        self.fetches = 0  # token fetches this client made, for the log and the tests

    @property
    def access_token(self) -> str:
        """The shared token; fetched (by one worker for all) when there is none or it is near its expiry."""
        return self.session.get(self.access_token_key) or self._refresh(stale=None)

    def _refresh(self, stale: str | None) -> str:
        """A token other than `stale`: another worker's fresh one, or one this worker fetches under the lease."""
        deadline = time.monotonic() + FETCH_LEASE_SECONDS + HTTP_TIMEOUT_SECONDS
        while True:
            token = self.session.get(self.access_token_key)
            if token and token != stale:
                return token
            owner = self.session.lease(self.access_token_key)
            if owner is not None:
                try:
                    token = self.session.get(self.access_token_key)  # stored while we were taking the lease?
                    if token and token != stale:
                        return token
                    self.fetch_access_token()
                    return self.session.get(self.access_token_key)
                finally:
                    self.session.release(self.access_token_key, owner)
            if time.monotonic() > deadline:
                raise ApiError(None, "timed out waiting for another worker to fetch the access token")
            time.sleep(0.05)

    def fetch_access_token(self) -> dict:
        """`cgi-bin/token` at our base address, with a timeout (wechatpy's own has neither)."""
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        try:
            response = self._http.get(f"{self.API_BASE_URL}token", params=params, timeout=self.timeout)
            result = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ApiError(None, f"cannot fetch the access token: {type(exc).__name__}") from None
        if result.get("errcode"):
            raise ApiError(int(result["errcode"]), str(result.get("errmsg", "")))
        self.fetches += 1
        expires_in = int(result.get("expires_in") or 7200)
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        log.info("wechat_token_fetched: account=%s expires_in=%d", self.session.prefix, expires_in)
        return result

    def _request(self, method, url_or_endpoint, **kwargs):
        """One call; on an invalid or expired token, refresh it (once for all workers) and try once more."""
        params = dict(kwargs.pop("params", None) or {})
        params["access_token"] = self.access_token
        try:
            return self._call(method, url_or_endpoint, params, kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("wechat_token_refused: errcode=%s; refreshing and retrying once", exc.errcode)
            self.session.delete_if(self.access_token_key, params["access_token"])
            params["access_token"] = self._refresh(stale=params["access_token"])
        return self._call(method, url_or_endpoint, params, kwargs)

    def _call(self, method, url_or_endpoint, params: dict, kwargs: dict):
        try:
            return super()._request(method, url_or_endpoint, params=dict(params), **kwargs)
        except requests.RequestException as exc:
            raise ApiError(None, f"cannot reach {self.base}: {type(exc).__name__}") from None


def call(action: Callable[[], dict]) -> dict:
    """Run one API call; every failure becomes an ApiError with WeChat's code (None: not reached)."""
    try:
        return action()
    except WeChatClientException as exc:
        code = int(exc.errcode) if exc.errcode is not None else None
        raise ApiError(code, str(exc.errmsg or "HTTP error")) from None


def customer_service(api: WeChatApi) -> Send:
    """Send a text as a customer-service message (客服消息); WeChat's refusals keep their error code."""

    def send(openid: str, text: str) -> None:
        send_through(lambda: api.message.send_text(openid, text))

    return send


def send_through(action: Callable[[], dict]) -> None:
    """Run one send call; WeChat's refusals become SendRefused with its code, the rest SendFailed."""
    try:
        call(action)
    except ApiError as exc:
        if exc.code is None:
            raise SendFailed(str(exc)) from None
        raise SendRefused(exc.code, str(exc)) from None


def init_app(app) -> None:
    """The account's API client when AppID and AppSecret are set (else None), and late-reply delivery through it."""
    config, bot = app.config, app.extensions["bot"]
    client = None
    if config["WECHAT_APP_ID"] and config["WECHAT_APP_SECRET"]:
        app_id, secret, base = config["WECHAT_APP_ID"], config["WECHAT_APP_SECRET"], config["WECHAT_API_BASE"]
        client = WeChatApi(app_id, secret, base, bot.shared_values)
    app.extensions["wechat_api"] = client
    send = customer_service(client) if client is not None else None
    app.extensions["late_replies"] = LateReplies(lambda: bot.records_db, bot.salt, send, marks=bot.shared)
