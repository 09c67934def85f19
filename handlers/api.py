"""/api/v1 for the WeChat and Alipay mini-programs: JSON → Incoming → bot.respond → JSON."""

from __future__ import annotations

import re
import secrets

from flask import Blueprint, current_app, jsonify, request
from itsdangerous import BadSignature, URLSafeSerializer

from bot import Incoming, Reply

from .api_errors import ApiError
from .login import LoginError, code_exchange

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_TEXT_CHARS = 500
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CHANNEL = "api"
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
_PAGE_NUMBER_MAX = 999_999_999


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="api-session")


def _new_session(identity: str | None = None) -> str:
    """An opaque id the server signed, so nobody can steer a conversation by guessing one."""
    return _signer().dumps(identity or secrets.token_urlsafe(16))


def _identity(session: object) -> str:
    if not isinstance(session, str):
        raise ApiError(400, "invalid_field", "'session' must be the string this API returned")
    try:
        return _signer().loads(session)
    except BadSignature:
        raise ApiError(400, "invalid_session", "'session' is not one this server issued") from None


def _json_body() -> dict:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # json's decoder recurses per level; `silent` only covers ValueError
        raise ApiError(400, "invalid_json", "the body is nested too deeply") from None
    if body is None:
        raise ApiError(400, "invalid_json", "the body must be a JSON object (Content-Type: application/json)")
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    return body


def _field(body: dict, name: str, kind: type, required: bool = True):
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, "missing_field", f"'{name}' is required")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ApiError(400, "invalid_field", f"'{name}' must be a {kind.__name__}")
    if kind is str and not _is_unicode(value):
        raise ApiError(400, "invalid_field", f"'{name}' is not valid Unicode text (an unpaired surrogate)")
    return value


def _is_unicode(text: str) -> bool:
    """JSON may carry "\\ud800"; such a string cannot be stored, logged or signed as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _rate_limit(key: str, limit: int) -> None:
    if limit <= 0:
        return
    wait = current_app.extensions["bot"].allow(key, limit, float(current_app.config["API_RATE_WINDOW"]))
    if wait:
        seconds = str(max(1, round(wait)))
        raise ApiError(429, "rate_limited", f"too many requests; retry in {seconds} s", {"Retry-After": seconds})


@blueprint.before_request
def limit_per_ip():
    if request.method != "OPTIONS":
        _rate_limit(f"ip:{request.remote_addr}", int(current_app.config["API_RATE_LIMIT_PER_IP"]))


def _knowledge():
    return current_app.extensions["knowledge"].current()


def _summary(faq) -> dict:
    return {"faq_id": faq.id, "title": faq.title, "category": faq.category}


def _options(options) -> list[dict]:
    return [{"faq_id": o.faq_id, "title": o.title} for o in options]


@blueprint.post("/ask")
def ask():
    body = _json_body()
    text = _field(body, "text", str)
    if not text.strip():
        raise ApiError(400, "invalid_field", "'text' must not be empty")
    if len(text) > MAX_TEXT_CHARS:
        raise ApiError(400, "text_too_long", f"'text' has {len(text)} characters; at most {MAX_TEXT_CHARS}")
    session = _field(body, "session", str, required=False)
    identity = _identity(session) if session else secrets.token_urlsafe(16)
    region = _region(_field(body, "region", str, required=False))
    per_session = int(current_app.config["API_RATE_LIMIT_PER_SESSION"])
    if not session:  # else leaving it out would skip this limit: new sessions share one count per client address
        _rate_limit(f"new-session:{request.remote_addr}", per_session)
    _rate_limit(f"session:{identity}", per_session)
    reply = current_app.extensions["bot"].respond(
        Incoming(CHANNEL, identity, text=text, region=region, paged=False, buttons=True)
    )
    return jsonify(_reply_json(reply, session or _new_session(identity)))


def _region(name: str | None) -> str | None:
    """A province or city the client chose, as the province short name; unknown names are refused."""
    if not name:
        return None
    _, matcher = _knowledge()
    province = matcher.analyzer.regions.province_of(name.strip())
    if province is None:
        raise ApiError(400, "invalid_field", f"'region' {name!r} is not a province or city the bot knows")
    return province


def _reply_json(reply: Reply, session: str) -> dict:
    return {
        "session": session,
        "action": reply.action,
        "faq_id": reply.faq_id,
        "title": reply.extra.get("title"),
        "answer": reply.text or "",
        "region": reply.region,
        "options": _options(reply.options),
        "related": _options(reply.related),
    }


@blueprint.get("/faqs")
def faqs():
    kb, matcher = _knowledge()
    category = request.args.get("category")
    query = request.args.get("q", "").strip()
    page = _positive_int("page", 1)
    per_page = min(_positive_int("per_page", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    if len(query) > MAX_TEXT_CHARS:
        raise ApiError(400, "text_too_long", f"'q' has more than {MAX_TEXT_CHARS} characters")
    if query:
        entries = [kb.faq(c.faq_id) for c in matcher.rank(query) if c.score >= matcher.thresholds.clarify]
    else:
        entries = list(kb.faqs)
    if category:
        entries = [f for f in entries if f.category == category]
    start = (page - 1) * per_page
    return jsonify(
        faqs=[_summary(f) for f in entries[start : start + per_page]], page=page, per_page=per_page, total=len(entries)
    )


def _positive_int(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # ASCII digits only, and few: str.isdigit() also accepts "²" and "٣", which int() refuses or misreads.
    if not _PAGE_NUMBER.fullmatch(raw):
        raise ApiError(400, "invalid_field", f"'{name}' must be a whole number from 1 to {_PAGE_NUMBER_MAX}")
    return int(raw)


@blueprint.get("/faqs/<faq_id>")
def faq(faq_id: str):
    kb, _ = _knowledge()
    entry = kb.faq(faq_id)
    if entry is None:
        raise ApiError(404, "unknown_faq", f"no FAQ with id {faq_id!r}")
    related = [kb.faq(r) for r in entry.related]
    return jsonify(
        **_summary(entry),
        answer=entry.answer,
        regions=entry.regions,
        related=[{"faq_id": r.id, "title": r.title} for r in related],
        sources=[str(kb.references_by_id.get(cited, cited)) for cited in entry.sources],
        reviewed=entry.reviewed,
    )


@blueprint.get("/categories")
def categories():
    kb, _ = _knowledge()
    counts: dict[str, int] = {}
    for entry in kb.faqs:
        counts[entry.category] = counts.get(entry.category, 0) + 1
    return jsonify(categories=[{"name": name, "count": count} for name, count in counts.items()])


@blueprint.get("/popular")
def popular():
    kb, _ = _knowledge()
    return jsonify(faqs=[{"faq_id": f, "title": kb.faq(f).title} for f in kb.popular])


@blueprint.post("/feedback")
def feedback():
    body = _json_body()
    identity = _identity(_field(body, "session", str))
    faq_id = _field(body, "faq_id", str)
    helpful = _field(body, "helpful", bool)
    kb, _ = _knowledge()
    if kb.faq(faq_id) is None:
        raise ApiError(404, "unknown_faq", f"no FAQ with id {faq_id!r}")
    current_app.extensions["bot"].feedback(CHANNEL, identity, faq_id, helpful)
    return jsonify(ok=True)


@blueprint.post("/login")
def login():
    """Mini-program login: the front end's wx.login / my.getAuthCode code → a session tied to the user."""
    exchange = code_exchange(current_app.config)
    if exchange is None:
        raise ApiError(404, "login_disabled", "mini-program login is off (MINIPROGRAM_LOGIN)")
    code = _field(_json_body(), "code", str)
    try:
        user = exchange.user_id(code)
    except LoginError as error:
        raise ApiError(400, "login_failed", str(error)) from None
    return jsonify(session=_new_session(f"{exchange.platform}:{user}"))


@blueprint.after_request
def cors(response):
    """Browsers may call the API only from the configured front-end origins."""
    origin = request.headers.get("Origin")
    allowed = {o.strip() for o in current_app.config["API_CORS_ORIGINS"].split(",") if o.strip()}
    if origin and origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    return response
