"""Mini-program code exchange behind one small interface: the front end's login code → a stable user id.

Off by default (MINIPROGRAM_LOGIN empty): the API then gives each client an anonymous signed session.
Both exchanges call the platform's servers, so they need the network and the mini-program's credentials.
- WeChat: wx.login() in the mini-program → code → GET jscode2session → openid (session_key never leaves here).
- Alipay: my.getAuthCode() → auth code → alipay.system.oauth.token, signed RSA2 (SHA256withRSA) → user_id.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

TIMEOUT_SECONDS = 5
WECHAT_URL = "https://api.weixin.qq.com/sns/jscode2session"
ALIPAY_URL = "https://openapi.alipay.com/gateway.do"


class LoginError(Exception):
    """The platform refused the code or could not be reached; the message is safe to show."""


class CodeExchange(Protocol):
    platform: str

    def user_id(self, code: str) -> str:
        """The platform's stable id for the user who produced `code`."""


class WeChatCodeExchange:
    platform = "wechat"

    def __init__(self, app_id: str, secret: str, url: str = WECHAT_URL):
        self.app_id, self.secret, self.url = app_id, secret, url

    def user_id(self, code: str) -> str:
        query = urllib.parse.urlencode(
            {"appid": self.app_id, "secret": self.secret, "js_code": code, "grant_type": "authorization_code"}
        )
        data = _get_json(f"{self.url}?{query}")
        if not data.get("openid"):
            raise LoginError(f"WeChat refused the code (errcode {data.get('errcode')})")
        return data["openid"]


class AlipayCodeExchange:
    platform = "alipay"

    def __init__(self, app_id: str, private_key_pem: str, url: str = ALIPAY_URL):
        self.app_id, self.url = app_id, url
        self.key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)

    def user_id(self, code: str) -> str:
        params = {
            "app_id": self.app_id,
            "method": "alipay.system.oauth.token",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "grant_type": "authorization_code",
            "code": code,
        }
        params["sign"] = self.sign(params)
        data = _get_json(f"{self.url}?{urllib.parse.urlencode(params)}")
        result = data.get("alipay_system_oauth_token_response", {})
        user = result.get("user_id") or result.get("open_id")
        if not user:
            error = data.get("error_response", {})
            raise LoginError(f"Alipay refused the code ({error.get('sub_code') or error.get('code')})")
        return user

    def sign(self, params: dict) -> str:
        """RSA2 over the sorted `k=v&…` string of the non-empty parameters (sign_type included)."""
        text = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v and k != "sign")
        signature = self.key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()


def code_exchange(config) -> CodeExchange | None:
    """The exchange MINIPROGRAM_LOGIN names, or None when login is off."""
    platform = config.get("MINIPROGRAM_LOGIN", "")
    if platform == "wechat":
        return WeChatCodeExchange(config["MINIPROGRAM_APP_ID"], config["MINIPROGRAM_SECRET"])
    if platform == "alipay":
        return AlipayCodeExchange(config["MINIPROGRAM_APP_ID"], config["MINIPROGRAM_SECRET"])
    return None


def _get_json(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - fixed https hosts
            return json.loads(response.read().decode())
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        raise LoginError(f"the login server could not be reached ({error.__class__.__name__})") from None
