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
from .wechat_platform import MODES, Account, ReplyError, deliver, message_xml, open_reply

#: WeChat drops the connection after this many seconds and retries.
WECHAT_WAIT_SECONDS = 5

wechat = AppGroup("wechat", help="Talk to a running /wechat endpoint as WeChat's server would.")


@wechat.command("send")
@click.argument("text", required=False, default="")
@click.option("--url", default="http://127.0.0.1:5000/wechat", show_default=True, help="The server's /wechat URL.")
@click.option(
    "--mode", type=click.Choice(MODES), help="WeChat's message mode [default: aes with WECHAT_AES_KEY, else plain]"
)
@click.option("--user", default="o_local_tester", show_default=True, help="The sender's openid.")
@click.option("--event", type=click.Choice(["subscribe", "click"]), help="Send this event instead of TEXT.")
@click.option("--key", help="The menu button's EventKey (with --event click) or qrscene_… (with subscribe).")
@click.option(
    "--slow",
    is_flag=True,
    help="Show a late reply arriving: this app is served on loopback with each turn held past "
    "WECHAT_REPLY_TIMEOUT, WeChat's API played by a stand-in (--url is not used).",
)
@click.option("--delay", type=float, help="With --slow: seconds each turn is held (default: the timeout + 1.5).")
def send_command(
    text: str, url: str, mode: str, user: str, event: str | None, key: str | None, slow: bool, delay: float | None
) -> None:
    """Send TEXT (or an --event), signed and encrypted with this app's WECHAT_* settings; print the reply."""
    mode = mode or ("aes" if current_app.config["WECHAT_AES_KEY"] else "plain")
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
    """List the latest replies that missed WeChat's 5 seconds, and whether each reached the user."""
    rows = late_replies.recent(current_app.extensions["bot"].records_db, limit)
    if not rows:
        click.echo("(no late replies)")
    for row in rows:
        outcome = row["state"] + (f" {row['error_code']}" if row["error_code"] is not None else "")
        first_line = (row["text"] or "").split("\n", 1)[0][:40]
        click.echo(f"{row['at']}  {outcome:<13} pages={row['pages'] or 0} tries={row['attempts']}  {first_line}")
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


def _post(url: str, query: dict[str, str], body: bytes) -> bytes:
    target = f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(query)}"
    request = urllib.request.Request(target, data=body, headers={"Content-Type": "text/xml"}, method="POST")
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
        return "(handed to the account's customer-service staff: transfer_customer_service)"
    return reply.content if reply.content is not None else "(nothing: the server answered “success”)"
