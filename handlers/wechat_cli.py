"""`flask --app app wechat send`: play WeChat's server against a running /wechat and print what the user sees."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request

import click
from flask import current_app
from flask.cli import AppGroup

from bot.storage import late_replies

from . import wechat_late_demo
from .wechat_platform import (
    MODES,
    Account,
    ReplyError,
    deliver,
    message_fields,
    message_xml,
    open_kf_reply,
    open_reply,
    render,
)

#: WeChat drops the connection after this many seconds and retries.
WECHAT_WAIT_SECONDS = 5

wechat = AppGroup("wechat", help="Talk to a running /wechat endpoint as WeChat's server would.")


@wechat.command("send")
@click.argument("text", required=False, default="")
@click.option(
    "--url",
    help="The server's endpoint [default: http://127.0.0.1:5000/wechat; with --channel miniprogram, this app served "
    "on loopback with WeChat's API played by a stand-in, to show the answers it sends].",
)
@click.option(
    "--channel",
    type=click.Choice(["official", "miniprogram"]),
    default="official",
    show_default=True,
    help="The official account (/wechat, WECHAT_*) or the mini-program's customer-service chat "
    "(/wechat/miniprogram, MINIPROGRAM_*).",
)
@click.option(
    "--format",
    "data_format",
    type=click.Choice(["xml", "json"]),
    default="xml",
    show_default=True,
    help="The push's 数据格式 (json: mini-program only).",
)
@click.option(
    "--mode",
    type=click.Choice(MODES),
    help="WeChat's message mode [default: aes with the channel's AES key set, else plain]",
)
@click.option("--user", default="o_local_tester", show_default=True, help="The sender's openid.")
@click.option(
    "--event",
    type=click.Choice(["subscribe", "click", "enter"]),
    help="Send this event instead of TEXT (enter: the user opened the mini-program's chat).",
)
@click.option("--key", help="The menu button's EventKey (with --event click) or qrscene_… (with subscribe).")
@click.option(
    "--slow",
    is_flag=True,
    help="Show a late reply arriving: this app is served on loopback with each turn held past "
    "WECHAT_REPLY_TIMEOUT, WeChat's API played by a stand-in (--url is not used).",
)
@click.option("--delay", type=float, help="With --slow: seconds each turn is held (default: the timeout + 1.5).")
def send_command(
    text: str,
    url: str | None,
    channel: str,
    data_format: str,
    mode: str | None,
    user: str,
    event: str | None,
    key: str | None,
    slow: bool,
    delay: float | None,
) -> None:
    """Send TEXT (or an --event), signed and encrypted with this app's settings; print what the user sees."""
    if channel == "miniprogram":
        _send_to_miniprogram(url, text, data_format, mode, user, event)
        return
    if data_format != "xml" or event == "enter":
        raise click.UsageError("--format json and --event enter are for --channel miniprogram")
    mode = mode or ("aes" if current_app.config["WECHAT_AES_KEY"] else "plain")
    url = url or "http://127.0.0.1:5000/wechat"
    if not slow:
        _send_one(url, text, mode, user, event, key)
        return

    def send_to(local_url: str, user_wrote) -> str:
        user_wrote(user)  # WeChat received the message: customer-service messages to the user are allowed
        _send_one(local_url, text, mode, user, event, key, timed=True)
        return user

    wechat_late_demo.show_late_reply(current_app._get_current_object(), send_to, delay)


@wechat.command("late")
@click.option("--limit", default=20, show_default=True, help="How many to list.")
def late_command(limit: int) -> None:
    """List the latest replies sent through the customer-service API (late ones; all of the mini-program's chat)."""
    rows = late_replies.recent(current_app.extensions["bot"].records_db, limit)
    if not rows:
        click.echo("(no late replies)")
    for row in rows:
        outcome = row["state"] + (f" {row['error_code']}" if row["error_code"] is not None else "")
        first_line = (row["text"] or "").split("\n", 1)[0][:40]
        line = f"{row['at']}  {row['channel']:<11} {outcome:<13} pages={row['pages'] or 0} tries={row['attempts']}"
        click.echo(f"{line}  {first_line}")
        if row["error"]:
            click.echo(f"    {row['error']}")


def _send_one(
    url: str, text: str, mode: str, user: str, event: str | None, key: str | None, timed: bool = False
) -> None:
    account = _account(mode)
    xml = message_xml(account, user, *_message(text, event, key))
    delivery = deliver(account, user, xml, mode)
    started = time.monotonic()
    body = _post(url, delivery.query, delivery.body)
    elapsed = time.monotonic() - started
    try:
        reply = open_reply(account, delivery, body)
    except ReplyError as exc:
        raise click.ClickException(f"WeChat would not show this reply: {exc}") from None
    if elapsed > WECHAT_WAIT_SECONDS:
        click.echo(f"warning: the reply took {elapsed:.1f} s; WeChat gives up after {WECHAT_WAIT_SECONDS}", err=True)
    if timed:
        click.echo(f"reply to the POST after {elapsed:.1f} s:")
    click.echo(_shown(reply))


def _account(mode: str) -> Account:
    config = current_app.config
    if not config["WECHAT_TOKEN"]:
        raise click.ClickException("WECHAT_TOKEN is empty: set it (and the other WECHAT_* settings) as the server has")
    if mode != "plain" and not (config["WECHAT_AES_KEY"] and config["WECHAT_APP_ID"]):
        raise click.ClickException(f"--mode {mode} needs WECHAT_AES_KEY and WECHAT_APP_ID")
    return Account(config["WECHAT_TOKEN"], config["WECHAT_AES_KEY"], config["WECHAT_APP_ID"])


def _send_to_miniprogram(
    url: str | None, text: str, data_format: str, mode: str | None, user: str, event: str | None
) -> None:
    """One push to the mini-program's chat; without --url, this app on loopback, and the answers it sends."""
    if event not in (None, "enter"):
        raise click.UsageError("the mini-program's chat has no --event subscribe or click (use enter)")
    if not text and event is None:
        raise click.UsageError("give the TEXT to send, or --event enter")
    mode = mode or ("aes" if current_app.config["MINIPROGRAM_PUSH_AES_KEY"] else "plain")
    if mode != "plain" and not current_app.config["MINIPROGRAM_PUSH_AES_KEY"]:
        raise click.ClickException(f"--mode {mode} needs MINIPROGRAM_PUSH_AES_KEY (and MINIPROGRAM_APP_ID)")

    def push(endpoint: str) -> bool:
        account = _miniprogram_account(mode)
        msg_type, fields = ("event", {"Event": "user_enter_tempsession"}) if event else ("text", {"Content": text})
        elements = message_fields(account, user, msg_type, fields)
        delivery = deliver(account, user, render(elements, data_format), mode, data_format=data_format)
        content_type = "application/json" if data_format == "json" else "text/xml"
        body = _post(endpoint, delivery.query, delivery.body, content_type)
        try:
            reply = open_kf_reply(account, delivery, body)
        except ReplyError as exc:
            raise click.ClickException(f"WeChat would not accept this reply: {exc}") from None
        click.echo("reply to the POST:")
        click.echo(_shown(reply))
        return reply.transferred

    if url:
        if not push(url):
            click.echo("(the answer goes out through the customer-service API of that server's WECHAT_API_BASE)")
        return

    def push_here(local_url: str, standin) -> tuple[str, bool]:
        (standin.user_entered if event else standin.user_wrote)(user)  # what WeChat then allows the server to send
        return user, push(local_url)

    wechat_late_demo.show_miniprogram_reply(current_app._get_current_object(), push_here)


def _miniprogram_account(mode: str) -> Account:
    config = current_app.config
    if not config["MINIPROGRAM_PUSH_TOKEN"]:
        raise click.ClickException("MINIPROGRAM_PUSH_TOKEN is empty: set it (and MINIPROGRAM_*) as the server has")
    if mode != "plain" and not (config["MINIPROGRAM_PUSH_AES_KEY"] and config["MINIPROGRAM_APP_ID"]):
        raise click.ClickException(f"--mode {mode} needs MINIPROGRAM_PUSH_AES_KEY and MINIPROGRAM_APP_ID")
    return Account(config["MINIPROGRAM_PUSH_TOKEN"], config["MINIPROGRAM_PUSH_AES_KEY"], config["MINIPROGRAM_APP_ID"])


def _message(text: str, event: str | None, key: str | None) -> tuple[str, dict[str, str]]:
    if event == "click":
        if not key:
            raise click.UsageError("--event click needs --key")
        return "event", {"Event": "CLICK", "EventKey": key}
    if event == "subscribe":
        return "event", {"Event": "subscribe", "EventKey": key or ""}
    if not text:
        raise click.UsageError("give the TEXT to send, or an --event")
    return "text", {"Content": text}


def _post(url: str, query: dict[str, str], body: bytes, content_type: str = "text/xml") -> bytes:
    target = f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(query)}"
    request = urllib.request.Request(target, data=body, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        raise click.ClickException(f"HTTP {exc.code} {exc.reason} from {url}") from None
    except OSError as exc:  # URLError included: refused, unknown host, timeout
        raise click.ClickException(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None


def _shown(reply) -> str:
    if reply.transferred:
        return "(handed to the customer-service staff: transfer_customer_service)"
    return reply.content if reply.content is not None else "(nothing: the server answered “success”)"
