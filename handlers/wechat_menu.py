"""`flask --app app wechat menu show|push|delete`: the account's custom menu, made from knowledge/menu.yaml.

Once 服务器配置 (developer mode) is on, the WeChat console no longer edits the menu: CLICK buttons exist only if
the server creates them through the API, which this does.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

import bot.knowledge as knowledge
from bot.knowledge import KnowledgeBase, KnowledgeError, MenuButton

from .wechat_api import ApiError, WeChatApi, call

menu = AppGroup("menu", help="Show, push or delete the account's custom menu (knowledge/menu.yaml).")


def menu_json(buttons: tuple[MenuButton, ...], site_url: str) -> dict:
    """The body of `menu/create` for `buttons`; links written as a path ("/") open on `site_url`."""
    return {"button": [_button_json(button, site_url) for button in buttons]}


def _button_json(button: MenuButton, site_url: str) -> dict:
    if button.kind == "group":
        return {"name": button.name, "sub_button": [_button_json(b, site_url) for b in button.sub_buttons]}
    if button.kind == "click":
        return {"type": "click", "name": button.name, "key": button.key}
    link = {"type": button.kind, "name": button.name, "url": _absolute(button, site_url)}
    if button.kind == "miniprogram":
        link |= {"appid": button.appid, "pagepath": button.pagepath}
    return link


def _absolute(button: MenuButton, site_url: str) -> str:
    if not button.url.startswith("/"):
        return button.url
    if not site_url:
        raise click.ClickException(
            f"menu button '{button.name}' ({button.source}) links to {button.url}: set SITE_URL to this service's "
            "public address (https://your.host)"
        )
    return site_url.rstrip("/") + button.url


@menu.command("push")
def push_command() -> None:
    """Create the menu menu.yaml describes (it replaces the one WeChat has), after checking it as `faq lint` does."""
    kb = _knowledge()
    if not kb.buttons:
        raise click.ClickException("menu.yaml has no buttons: nothing to push (use `wechat menu delete` to remove)")
    body = menu_json(kb.buttons, current_app.config["SITE_URL"])
    api = _api()
    _call(lambda: api.menu.create(body))
    click.echo("pushed; users see it when they next open the chat (within 5 minutes, or unfollow and follow again):")
    click.echo(_describe(body, kb))


@menu.command("show")
def show_command() -> None:
    """Print the menu WeChat has now, with what each button answers according to menu.yaml."""
    found = _call(_api().menu.get)
    if not found:
        click.echo("(no menu: WeChat shows none; `wechat menu push` creates it)")
        return
    click.echo(_describe(found.get("menu", {}), _knowledge(strict=False)))


@menu.command("delete")
def delete_command() -> None:
    """Remove the custom menu from the account."""
    _call(_api().menu.delete)
    click.echo("deleted: the account has no custom menu now")


def _describe(body: dict, kb: KnowledgeBase | None) -> str:
    """One line per button, sub-buttons indented, with the FAQ a CLICK key answers."""
    lines = []
    for top in body.get("button", []):
        lines.append(_line(top, kb, indent=""))
        lines.extend(_line(sub, kb, indent="    ") for sub in top.get("sub_button", []))
    return "\n".join(lines)


def _line(button: dict, kb: KnowledgeBase | None, indent: str) -> str:
    kind, name = button.get("type"), button.get("name", "")
    if kind is None:
        return f"{indent}{name}"
    if kind == "click":
        key = button.get("key", "")
        target = kb.menu.get(key) if kb else None
        answers = f" → {target}" if target else " → (not in menu.yaml: the bot will not answer it)"
        return f"{indent}{name}  [click {key}]{answers}"
    if kind == "miniprogram":
        return f"{indent}{name}  [miniprogram {button.get('appid')} {button.get('pagepath')}; else {button.get('url')}]"
    return f"{indent}{name}  [{kind} {button.get('url', '')}]"


def _knowledge(strict: bool = True) -> KnowledgeBase | None:
    directory = current_app.config["KNOWLEDGE_DIR"]
    try:
        return knowledge.load(directory)
    except KnowledgeError as exc:
        if not strict:
            return None
        raise click.ClickException(f"the knowledge files have problems; fix them first:\n{exc}") from None


def _api() -> WeChatApi:
    api = current_app.extensions.get("wechat_api")
    if api is None:
        raise click.ClickException("set WECHAT_APP_ID and WECHAT_APP_SECRET (公众号后台 → 设置与开发 → 基本配置)")
    return api


def _call(action):
    try:
        return call(action)
    except ApiError as exc:
        raise click.ClickException(f"WeChat refused: {exc}") from None
