"""`flask wechat send --slow` and `--channel miniprogram`: watch replies sent through WeChat's API arrive.

This app is served on 127.0.0.1 on a scratch database, with WeChat's API played by the loopback stand-in; the
message goes in as WeChat posts it, and what the user sees is printed: first the answer to the POST (`success`:
nothing), then each customer-service message as it arrives. `--slow` holds each turn past WECHAT_REPLY_TIMEOUT
(a late reply of the official account); the mini-program's chat answers that way every time.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask
from werkzeug.serving import make_server

from bot import Bot

from . import miniprogram_kf, wechat_api
from .wechat_api_standin import WeChatApiStandIn

#: Used when the app has no WeChat settings of its own: nothing leaves this machine.
DEMO = {"WECHAT_TOKEN": "demo-token", "WECHAT_APP_ID": "wx0000000000demo", "WECHAT_APP_SECRET": "demo-secret"}
MINIPROGRAM_DEMO = {
    "MINIPROGRAM_PUSH_TOKEN": "demo-token",
    "MINIPROGRAM_APP_ID": "wx00000000minidemo",
    "MINIPROGRAM_SECRET": "demo-secret",
}
#: How long to wait for the customer-service messages after the turn ends.
ARRIVAL_SECONDS = 15.0
#: How long after the first message to wait for the others (pages of a long reply, a card).
MORE_SECONDS = 0.5


class HeldBot:
    """The bot, each turn held for `delay` seconds first, as a turn that is slow on purpose."""

    def __init__(self, bot: Bot, delay: float):
        self.bot, self.delay = bot, delay

    def respond(self, incoming):
        time.sleep(self.delay)
        return self.bot.respond(incoming)

    def __getattr__(self, name: str):
        return getattr(self.bot, name)  # everything else (replay checks, rate limits) as the bot does it


def show_late_reply(app: Flask, send, delay: float | None) -> None:
    """Serve `app` slowed down, call `send(url, user_wrote)` (posts one message, prints the reply), print the rest."""
    timeout = float(app.config["WECHAT_REPLY_TIMEOUT"])
    delay = timeout + 1.5 if delay is None else delay
    with _served(app, DEMO, ("WECHAT_APP_ID", "WECHAT_APP_SECRET"), wechat_api.init_app, delay) as (url, standin):
        click.echo(f"(each turn is held {delay:.1f} s; WECHAT_REPLY_TIMEOUT is {timeout:.1f} s)")
        started = time.monotonic()
        user = send(f"{url}/wechat", standin.user_wrote)
        _print_arrivals(standin, user, started, delay)


def show_miniprogram_reply(app: Flask, send: Callable[[str, WeChatApiStandIn], tuple[str, bool]]) -> None:
    """Serve `app`, call `send(url, standin)` (posts one push, prints the reply; the user and whether it was
    transferred), then print the customer-service messages the user receives."""
    credentials = ("MINIPROGRAM_APP_ID", "MINIPROGRAM_SECRET")
    if app.config["MINIPROGRAM_LOGIN"] == "alipay":  # the chat is WeChat's: its API client is wanted here
        app.config["MINIPROGRAM_LOGIN"] = ""
    with _served(app, MINIPROGRAM_DEMO, credentials, miniprogram_kf.init_app, None) as (url, standin):
        started = time.monotonic()
        user, transferred = send(f"{url}/wechat/miniprogram", standin)
        if not transferred:
            _print_arrivals(standin, user, started, 0.0)


@contextmanager
def _served(
    app: Flask, demo: dict, credentials: tuple[str, str], init: Callable[[Flask], None], delay: float | None
) -> Iterator[tuple[str, WeChatApiStandIn]]:
    """`app` on loopback with a scratch database and WeChat's API stand-in; yields its address and the stand-in."""
    for name, value in demo.items():
        app.config[name] = app.config[name] or value
    standin = WeChatApiStandIn(app.config[credentials[0]], app.config[credentials[1]])
    with standin.serve() as base, tempfile.TemporaryDirectory() as scratch:
        app.config["WECHAT_API_BASE"] = base
        real = app.extensions["bot"]
        bot = Bot(real.knowledge, str(Path(scratch) / "demo.sqlite"), real.salt, real.sessions.ttl)
        app.extensions["bot"] = bot
        real.knowledge.current()  # the matcher is trained before the message, not inside WeChat's 5 seconds
        init(app)  # the API client and the sender on the scratch database and the stand-in
        if delay is not None:
            app.extensions["bot"] = HeldBot(bot, delay)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", standin
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def _arrived(standin: WeChatApiStandIn, user: str) -> list[str]:
    texts = [text for openid, text in standin.sent if openid == user]
    cards = [f"[mini-program card] {c['title']} → {c['pagepath']}" for openid, c in standin.cards if openid == user]
    return texts + cards


def _print_arrivals(standin: WeChatApiStandIn, user: str, started: float, delay: float) -> None:
    deadline = started + delay + ARRIVAL_SECONDS
    while not _arrived(standin, user) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not _arrived(standin, user):
        raise click.ClickException("no customer-service message arrived; see the log for late_reply_* lines")
    time.sleep(MORE_SECONDS)
    for text in _arrived(standin, user):
        click.echo(f"\ncustomer-service message to {user} after {time.monotonic() - started:.1f} s:\n{text}")
