"""The yardstick for bench/http_throughput.py: a Flask app that answers every question with one fixed reply.

/api/v1/ask parses the JSON and answers a fixed JSON reply; /wechat checks the signature, decrypts (safe mode),
parses the XML and answers a fixed text reply, encrypted the same way: the crypto and XML a real reply needs,
and nothing else. Served by gunicorn with gunicorn.conf.py's worker settings (see fixed_reply_conf.py).
"""

from __future__ import annotations

import os

import xmltodict
from flask import Flask, jsonify, request
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

FIXED = "家庭共济可以在国家医保服务平台APP开通。"


def create_app() -> Flask:
    app = Flask(__name__)
    token, aes_key, app_id = os.environ["WECHAT_TOKEN"], os.environ["WECHAT_AES_KEY"], os.environ["WECHAT_APP_ID"]
    crypto = WeChatCrypto(token, aes_key, app_id)

    @app.post("/api/v1/ask")
    def ask():
        question = request.get_json()["text"]
        return jsonify(text=FIXED, action="answer", question_chars=len(question))

    @app.post("/wechat")
    def wechat():
        query = request.args
        check_signature(token, query["signature"], query["timestamp"], query["nonce"])
        body = request.get_data()
        if query.get("encrypt_type") == "aes":
            body = crypto.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])
        message = xmltodict.parse(body)["xml"]
        reply = TextReply(content=FIXED, target=message["FromUserName"], source=message["ToUserName"]).render()
        if query.get("encrypt_type") == "aes":
            reply = crypto.encrypt_message(reply, query["nonce"], query["timestamp"])
        return reply, 200, {"Content-Type": "application/xml"}

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    return app
