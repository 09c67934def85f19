"""`flask wechat send --slow`: watch a late reply arrive, everything on loopback in this process.

This app is served on 127.0.0.1 with each turn held past WECHAT_REPLY_TIMEOUT, on a scratch database, with
WeChat's API played by the loopback stand-in; the message goes in as WeChat posts it, and what the user sees
is printed: first the passive reply (`success`: nothing), then the customer-service message when it arrives.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import click
from flask import Flask
from werkzeug.serving import make_server

from bot import Bot

from . import wechat_api
from .wechat_api_standin import WeChatApiStandIn

#: Used when the app has no WeChat settings of its own: nothing leaves this machine.
DEMO = {"WECHAT_TOKEN": "demo-token", "WECHAT_APP_ID": "wx0000000000demo", "WECHAT_APP_SECRET": "demo-secret"}
#: How long to wait for the customer-service message after the turn ends.
ARRIVAL_SECONDS = 15.0


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
    """Serve `app` slowed down, call `send(url)` (which posts one message and prints the reply), print the rest."""
    for name, value in DEMO.items():
        app.config[name] = app.config[name] or value
    timeout = float(app.config["WECHAT_REPLY_TIMEOUT"])
    delay = timeout + 1.5 if delay is None else delay
    standin = WeChatApiStandIn(app.config["WECHAT_APP_ID"], app.config["WECHAT_APP_SECRET"])
    with standin.serve() as base, tempfile.TemporaryDirectory() as scratch:
        app.config["WECHAT_API_BASE"] = base
        real = app.extensions["bot"]
        bot = Bot(real.knowledge, str(Path(scratch) / "demo.sqlite"), real.salt, real.sessions.ttl)
        app.extensions["bot"] = bot
        wechat_api.init_app(app)  # the API client and late replies on the scratch database and the stand-in
        app.extensions["bot"] = HeldBot(bot, delay)
        click.echo(f"(each turn is held {delay:.1f} s; WECHAT_REPLY_TIMEOUT is {timeout:.1f} s)")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        started = time.monotonic()
        try:
            user = send(f"http://127.0.0.1:{server.server_port}/wechat", standin.user_wrote)
            _print_arrivals(standin, user, started, delay)
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def _print_arrivals(standin: WeChatApiStandIn, user: str, started: float, delay: float) -> None:
    deadline = started + delay + ARRIVAL_SECONDS
    while not standin.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    if not standin.sent:
        raise click.ClickException("no customer-service message arrived; see the log for late_reply_* lines")
    time.sleep(0.2)  # the other pages of a long reply
    for openid, text in standin.sent:
        click.echo(f"\ncustomer-service message to {openid} after {time.monotonic() - started:.1f} s:\n{text}")
