"""What every channel hands the bot, and what it gets back: no HTTP, no XML."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: typed or said something, or pressed a button, or followed the account."""

    channel: str  # "wechat", "api" … (records and per-channel session keys)
    user_id: str  # the channel's raw user id (openid, session id); hashed before it is stored
    kind: str = "text"  # text | voice | media | subscribe | enter (opened a chat) | unsubscribe | click | event
    text: str = ""  # the text, a voice message's recognition, or a button's EventKey
    message_id: str | None = None  # the channel's id for retried deliveries (WeChat MsgId)
    region: str | None = None  # a region the client already knows (mini-program setting)
    paged: bool = True  # WeChat: long answers come in pages; the JSON API wants them whole
    buttons: bool = False  # the client shows options and 有用/没用 as buttons: no "reply 1 or 2" instructions


@dataclass(frozen=True)
class Option:
    """A numbered choice offered to the user."""

    faq_id: str
    title: str


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one Incoming; `text` None means send nothing (WeChat: "success")."""

    text: str | None
    action: str  # answer | clarify | fallback | smalltalk | command | page | media | event | none
    faq_id: str | None = None
    region: str | None = None
    score: float = 0.0
    options: tuple[Option, ...] = ()
    related: tuple[Option, ...] = ()
    extra: dict = field(default_factory=dict, compare=False)
