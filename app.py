"""The application factory: settings from the environment, then each part wires itself in."""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
import tempfile
from pathlib import Path
from typing import NamedTuple

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import bot.knowledge as knowledge
import handlers
from bot import Bot
from bot.knowledge_source import KnowledgeSource
from bot.matching import Policy
from bot.publishing import Store
from bot.storage import StorageError, open_db
from bot.storage.postgres import PgDatabase

_QUERY = re.compile(r"\?[^ \"]*")

#: Shortest SECRET_KEY or USER_HASH_SALT accepted; generated ones have 64 hex characters.
MIN_SECRET_CHARS = 32


class ConfigError(Exception):
    """A setting the service cannot start with; the message says what is wrong and what to do."""


class Setting(NamedTuple):
    name: str
    default: object
    help: str


_P = Policy()
SETTINGS = (
    Setting("KNOWLEDGE_DIR", "", "Folder of the FAQ files; empty = the project's `knowledge/`"),
    Setting("KNOWLEDGE_RELOAD_SECONDS", 5.0, "How often to look for edited FAQ files and reload them; 0 = never"),
    Setting(
        "KNOWLEDGE_REVIEW_DAYS",
        180,
        "`faq lint` warns about entries whose `reviewed` date is older than this many days; 0 = never",
    ),
    Setting(
        "KNOWLEDGE_STORE",
        "",
        "Folder of published knowledge versions, drafts and their history (`faq publish`, /admin); "
        "empty = `instance/knowledge`",
    ),
    Setting("DATABASE", "", "SQLite file; empty = `instance/bot.sqlite`"),
    Setting(
        "DATABASE_URL",
        "",
        "`postgresql://user:password@host/db` puts the records (and, without REDIS_URL, the state) in PostgreSQL",
    ),
    Setting("REDIS_URL", "", "`redis://host:6379/0` puts per-user state, retries, rate limits and the token in Redis"),
    Setting("REDIS_PREFIX", "faqbot:", "Prefix of every Redis key, so several services can share one Redis"),
    Setting(
        "MATCH_WRONG_ANSWER_TARGET",
        _P.wrong_answer_target,
        "Share of held-out questions the bot may answer with the wrong FAQ; the answer threshold is learned to meet it",
    ),
    Setting(
        "MATCH_CLARIFY_PROBABILITY",
        _P.clarify,
        "Below this probability that the best FAQ is right, the bot falls back instead of offering options",
    ),
    Setting("WECHAT_TOKEN", "", "Token from the WeChat console (基本配置); `/wechat` answers 503 while empty"),
    Setting(
        "WECHAT_AES_KEY", "", "EncodingAESKey (43 characters) for compatible and safe mode; empty = plaintext only"
    ),
    Setting("WECHAT_APP_ID", "", "AppID of the official account; required with WECHAT_AES_KEY"),
    Setting(
        "WECHAT_ALLOW_PLAINTEXT",
        False,
        "With WECHAT_AES_KEY set, also read plaintext messages; only while switching the console's mode",
    ),
    Setting(
        "WECHAT_TIMESTAMP_TOLERANCE",
        300,
        "Seconds a signed WeChat request stays valid; 0 switches the replay window off",
    ),
    Setting(
        "WECHAT_REPLY_TIMEOUT",
        4.5,
        "Seconds to wait for an answer before replying `success` (WeChat waits 5); it then follows as a 客服 message",
    ),
    Setting(
        "WECHAT_APP_SECRET",
        "",
        "AppSecret of the official account, for the access token: menu push, late replies; empty = neither",
    ),
    Setting("WECHAT_API_BASE", "https://api.weixin.qq.com", "WeChat's API server; point it at a stand-in to test"),
    Setting("WECHAT_KF_TRANSFER", False, "1 = 人工 and a rejected fallback go to the account's customer-service staff"),
    Setting("SITE_URL", "", "This service's public address (https://your.host), for menu links to the chat page"),
    Setting("API_RATE_LIMIT_PER_IP", 120, "Requests one IP address may make to /api/v1 per window; 0 = no limit"),
    Setting("API_RATE_LIMIT_PER_SESSION", 30, "Questions one mini-program session may ask per window; 0 = no limit"),
    Setting("API_RATE_WINDOW", 60, "Length of the rate-limit window, in seconds"),
    Setting("API_CORS_ORIGINS", "", "Comma-separated front-end origins allowed to call /api/v1 from a browser"),
    Setting("MINIPROGRAM_LOGIN", "", "Code exchange for POST /api/v1/login: empty = off, `wechat` or `alipay`"),
    Setting("MINIPROGRAM_APP_ID", "", "Mini-program AppID: the code exchange, its customer-service chat"),
    Setting(
        "MINIPROGRAM_SECRET",
        "",
        "WeChat: the mini-program AppSecret (code exchange, its own access token); Alipay: the app's RSA2 key (PEM)",
    ),
    Setting(
        "MINIPROGRAM_PUSH_TOKEN",
        "",
        "Token of the mini-program's 消息推送配置; `/wechat/miniprogram` answers 503 while empty",
    ),
    Setting(
        "MINIPROGRAM_PUSH_AES_KEY",
        "",
        "EncodingAESKey of the mini-program's 消息推送配置 (compatible and safe mode; needs MINIPROGRAM_APP_ID)",
    ),
    Setting(
        "MINIPROGRAM_PUSH_ALLOW_PLAINTEXT",
        False,
        "With MINIPROGRAM_PUSH_AES_KEY set, also read plaintext pushes; only while switching the console's mode",
    ),
    Setting(
        "MINIPROGRAM_KF_TRANSFER",
        False,
        "1 = 人工 in the mini-program's customer-service chat goes to its staff (transfer_customer_service)",
    ),
    Setting(
        "MINIPROGRAM_FAQ_PAGE",
        "",
        "Mini-program page of the FAQ (e.g. `pages/faq/index`) for cards in the customer-service chat; empty = none",
    ),
    Setting("MINIPROGRAM_CARD_IMAGE", "", "Thumbnail of those cards (JPG/PNG file); empty = a plain green one"),
    Setting("SESSION_TTL", 1800, "Seconds of silence after which a user's conversation state is forgotten"),
    Setting("SECRET_KEY", "", "Signs mini-program session ids; empty = generated once into `instance/secret_key`"),
    Setting("USER_HASH_SALT", "", "Salt for hashing user ids in the records; empty = generated once into `instance/`"),
    Setting(
        "PROXY_HOPS",
        0,
        "Reverse proxies in front (nginx = 1), only with that many in front: client IPs then come from X-Forwarded-For",
    ),
    Setting(
        "ADMIN_COOKIE_SECURE",
        True,
        "The console's session cookie is sent over HTTPS only; false only to try the console on plain http locally",
    ),
    Setting("ADMIN_LOGIN_ATTEMPTS", 5, "Wrong passwords in a row after which a console account is locked"),
    Setting("ADMIN_LOCKOUT_SECONDS", 900, "How long a locked console account stays locked, in seconds"),
    Setting("MAX_CONTENT_LENGTH", 64 * 1024, "Largest request body accepted, in bytes (larger → 413)"),
    Setting("LOG_LEVEL", "INFO", "Python logging level"),
)


def _will_serve() -> bool:
    """False while a `flask` command other than `run` loads the app: `flask faq lint` started a training it never
    used, which took the CPU from the lint and, still running at exit, could abort the process."""
    context = click.get_current_context(silent=True)
    return context is None or context.info_name == "run"


def create_app(config: dict | None = None, warm: bool = True) -> Flask:
    """Build the app; `config` (tests) overrides the environment, which overrides the defaults.

    `warm` starts training the matcher at once; gunicorn's master, which only prepares and never serves, does not,
    nor does a `flask` command other than `run` (lint, export, publish … train only if they need the matcher).
    """
    app = Flask(__name__, instance_relative_config=True)
    app.json.ensure_ascii = False  # Chinese stays readable in JSON replies and logs
    app.config.update(read_settings(os.environ))
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["KNOWLEDGE_DIR"]:
        app.config["KNOWLEDGE_DIR"] = str(knowledge.DEFAULT_DIR)
    if not app.config["DATABASE"]:
        app.config["DATABASE"] = str(Path(app.instance_path) / "bot.sqlite")
    # The console's login cookie: never readable by scripts, not sent by other sites' forms, HTTPS only.
    app.config.update(
        SESSION_COOKIE_SECURE=bool(app.config["ADMIN_COOKIE_SECURE"]),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("werkzeug").addFilter(drop_query_strings)

    policy = Policy(
        wrong_answer_target=float(app.config["MATCH_WRONG_ANSWER_TARGET"]),
        clarify=float(app.config["MATCH_CLARIFY_PROBABILITY"]),
    )
    store = Store(app.config["KNOWLEDGE_STORE"] or Path(app.instance_path) / "knowledge", policy)
    source = KnowledgeSource(
        store.serve(app.config["KNOWLEDGE_DIR"]), policy, reload_seconds=float(app.config["KNOWLEDGE_RELOAD_SECONDS"])
    )
    app.extensions["knowledge"] = source
    app.extensions["knowledge_store"] = store
    if warm and _will_serve():
        source.warm()
    prepare_database(app.config["DATABASE"], app.config["DATABASE_URL"])
    salt = configured_secret(app, "USER_HASH_SALT", "user_hash_salt")
    app.extensions["bot"] = Bot(
        source,
        app.config["DATABASE"],
        salt,
        float(app.config["SESSION_TTL"]),
        database_url=app.config["DATABASE_URL"],
        redis_url=app.config["REDIS_URL"],
        redis_prefix=app.config["REDIS_PREFIX"],
    )
    app.config["SECRET_KEY"] = configured_secret(app, "SECRET_KEY", "secret_key")
    if app.config["PROXY_HOPS"]:
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    handlers.register(app)
    return app


def prepare_database(path: str, url: str = "") -> bool:
    """Create and migrate the database now, so a problem shows at start; False (logged) if it cannot be opened.

    Not fatal: gunicorn stops the whole server when a worker fails to boot, so a database that is briefly
    unavailable while a worker (re)starts would become an outage. /healthz says 503 until it answers again;
    gunicorn.conf.py checks it once in the master before any worker starts, and stops there if it cannot.
    """
    try:
        if url:
            database = PgDatabase(url)
            try:
                database.migrate()
            finally:
                database.close()
        else:
            open_db(path).conn.close()
    except StorageError as exc:
        logging.getLogger(__name__).error("database_unavailable: %s; /healthz answers 503 until it opens", exc)
        return False
    return True


def drop_query_strings(record: logging.LogRecord) -> bool:
    """Access logs without query strings: WeChat puts the user's openid and signatures there."""
    if isinstance(record.args, tuple):
        record.args = tuple(_QUERY.sub("?…", a) if isinstance(a, str) else a for a in record.args)
    return True


def configured_secret(app: Flask, setting: str, file_name: str) -> str:
    """The setting's secret, else the one generated into `instance/`; refused at start if empty or short."""
    if app.config[setting]:
        return checked_secret(app.config[setting], setting, f"set {setting} to a longer random value")
    return instance_secret(app.instance_path, file_name)


def instance_secret(directory: str | Path, name: str) -> str:
    """A random secret generated once into `directory` (mode 0600) and kept there, so restarts and workers agree."""
    path = Path(directory) / name
    if not path.exists():
        _create_secret(path)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)
        logging.getLogger(__name__).warning("secret_made_private: %s was readable by others; now 0600", path)
    return checked_secret(path.read_text().strip(), str(path), "delete the file to have a new one generated")


def _create_secret(path: Path) -> None:
    """Write the whole secret to a private temporary file, then link it into place: never empty, never partial."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as new_file:
            new_file.write(secrets.token_hex(32))
            new_file.flush()
            os.fsync(new_file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process got there first, with a whole secret too
    finally:
        os.unlink(temporary)


def checked_secret(value: str, where: str, remedy: str) -> str:
    """The secret if long enough to sign sessions and salt hashes; otherwise a ConfigError saying what to do."""
    if len(value) < MIN_SECRET_CHARS:
        size = "empty" if not value else f"only {len(value)} characters"
        raise ConfigError(f"{where} is {size}; a secret needs at least {MIN_SECRET_CHARS} random characters: {remedy}")
    return value


def read_settings(environ) -> dict:
    """Each setting from the environment, typed like its default; unset means the default."""
    values = {}
    for setting in SETTINGS:
        raw = environ.get(setting.name)
        if raw is None:
            values[setting.name] = setting.default
        elif isinstance(setting.default, bool):
            values[setting.name] = raw.strip().lower() in ("1", "true", "yes", "on")
        else:
            try:
                values[setting.name] = type(setting.default)(raw)
            except ValueError:
                kind = type(setting.default).__name__
                raise ValueError(f"environment variable {setting.name}={raw!r} is not a valid {kind}") from None
    return values
