"""`flask --app app wechat send`: play WeChat's server against a running /wechat and print what the user sees."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request

import click
from flask import current_app
from flask.cli import AppGroup

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
def send_command(text: str, url: str, mode: str, user: str, event: str | None, key: str | None) -> None:
    """Send TEXT (or an --event), signed and encrypted with this app's WECHAT_* settings; print the reply."""
    mode = mode or ("aes" if current_app.config["WECHAT_AES_KEY"] else "plain")
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
    click.echo(reply.content if reply.content is not None else "(nothing: the server answered “success”)")


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
