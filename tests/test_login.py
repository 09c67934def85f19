"""Mini-program code exchange: WeChat's jscode2session over real HTTP on loopback, Alipay's RSA2 signing."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from handlers.login import AlipayCodeExchange, LoginError, WeChatCodeExchange, code_exchange


@pytest.fixture
def fake_wechat():
    """A loopback stand-in for api.weixin.qq.com: code "good" has an openid, anything else an errcode."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            query = parse_qs(urlparse(self.path).query)
            good = query.get("js_code") == ["good"] and query.get("secret") == ["s3cret"]
            body = {"openid": "o_mini", "session_key": "never-leaves"} if good else {"errcode": 40029}
            self.send_response(200)
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/sns/jscode2session"
    server.shutdown()
    server.server_close()


def test_wechat_code_becomes_the_openid(fake_wechat):
    assert WeChatCodeExchange("wxapp", "s3cret", fake_wechat).user_id("good") == "o_mini"


def test_a_refused_code_is_a_login_error(fake_wechat):
    with pytest.raises(LoginError, match="40029"):
        WeChatCodeExchange("wxapp", "s3cret", fake_wechat).user_id("bad")


def test_an_unreachable_server_is_a_login_error():
    with pytest.raises(LoginError, match="could not be reached"):
        WeChatCodeExchange("wxapp", "s3cret", "http://127.0.0.1:9/none").user_id("good")


def test_alipay_request_is_signed_rsa2_over_sorted_parameters():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    exchange = AlipayCodeExchange("2021000000000000", pem)
    params = {"app_id": "2021", "method": "alipay.system.oauth.token", "sign_type": "RSA2", "code": "c", "x": ""}
    signature = base64.b64decode(exchange.sign(params))
    signed = b"app_id=2021&code=c&method=alipay.system.oauth.token&sign_type=RSA2"
    key.public_key().verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())


def test_login_is_off_unless_configured():
    assert code_exchange({"MINIPROGRAM_LOGIN": ""}) is None
    assert code_exchange({"MINIPROGRAM_LOGIN": "wechat", "MINIPROGRAM_APP_ID": "a", "MINIPROGRAM_SECRET": "b"})
