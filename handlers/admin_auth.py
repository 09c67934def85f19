"""Who may use /admin: passwords, the login session, a CSRF token on every form, lock-out and roles."""

from __future__ import annotations

import hmac
import secrets
import time
from functools import cache, wraps

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.security import check_password_hash, generate_password_hash

from bot.storage import operators

from . import admin_labels

#: Form field and session key carrying the CSRF token.
CSRF_FIELD = "csrf_token"


@cache
def _dummy_hash() -> str:
    """The hash every unknown name is checked against, so a wrong name costs as long as a wrong password.
    Made at the first login, not at import: scrypt takes 0.1 s every flask command would pay."""
    return generate_password_hash("not a password", method="scrypt")


def hash_password(password: str) -> str:
    """scrypt through werkzeug: salted, slow on purpose."""
    return generate_password_hash(password, method="scrypt")


def database():
    """The console's tables: in the records database, SQLite or the PostgreSQL every host shares."""
    return current_app.extensions["bot"].records_db


def csrf_token() -> str:
    """The session's token, made on first use; every form carries it in a hidden field."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def check_csrf() -> None:
    """Refuse (400) a POST whose token is missing or is not this session's: a forged form from another site."""
    if request.method != "POST":
        return
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="这个表单已过期或不是从本站提交的：请刷新页面后重试。")


class LoginRefused(Exception):
    """Wrong name or password (401), or an account locked after too many of them (429)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def log_in(name: str, password: str) -> dict:
    """The operator's account if the password is right; LoginRefused otherwise (and counts it)."""
    db = database()
    account = operators.find_operator(db, name)
    if account and account["locked_until"] > time.time():
        minutes = int((account["locked_until"] - time.time()) // 60) + 1
        raise LoginRefused(f"密码错误次数太多：这个账号已被锁定，请 {minutes} 分钟后再试。", 429)
    if not check_password_hash(account["password_hash"] if account else _dummy_hash(), password) or not account:
        locked = False
        if account:
            config = current_app.config
            locked = operators.count_failed_login(
                db, name, int(config["ADMIN_LOGIN_ATTEMPTS"]), float(config["ADMIN_LOCKOUT_SECONDS"])
            )
            operators.audit(db, name, "login refused", detail="account locked" if locked else "wrong password")
        if locked:
            raise LoginRefused("密码错误次数太多：这个账号已被暂时锁定。", 429)
        raise LoginRefused("用户名或密码错误。", 401)
    operators.clear_failed_logins(db, name)
    session.clear()  # a new session: nothing from before the login carries over
    session["operator"] = name
    csrf_token()
    operators.audit(db, name, "logged in")
    return account


def current_operator() -> dict | None:
    """The logged-in operator's account, read afresh (a removed account or changed role counts at once)."""
    if "operator_account" not in g:
        name = session.get("operator")
        g.operator_account = operators.find_operator(database(), name) if name else None
    return g.operator_account


def require_login() -> object | None:
    """Send a visitor who is not logged in to the login page."""
    if current_operator() is None:
        session.pop("operator", None)
        return redirect(url_for("admin.login", next=request.full_path if request.method == "GET" else None))
    return None


def publisher_only(view):
    """Publishing and rolling back are for publishers; an editor gets 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_operator()["role"] != "publisher":
            abort(403, description="只有发布员可以发布或回滚。")
        return view(*args, **kwargs)

    return wrapped


def audit(action: str, target: str = "", detail: str = "") -> None:
    """Record a change made by the logged-in operator."""
    operators.audit(database(), current_operator()["name"], action, target, detail)


def guard(bp: Blueprint, public: tuple[str, ...] = ()) -> None:
    """Every page of `bp` needs a logged-in operator (but `public` endpoints) and every POST a CSRF token."""

    @bp.before_request
    def _guard():
        check_csrf()
        if request.endpoint not in public:
            return require_login()
        return None

    bp.register_error_handler(HTTPException, error_page)


def error_page(error: HTTPException):
    """A console page naming the problem (a 400's message says what to do), inside the console's frame."""
    title, message = admin_labels.error_text(error)
    return render_template("admin/error.html", error=error, error_title=title, error_message=message), error.code


def template_values() -> dict:
    """What every console template may use: the CSRF token for its forms, the operator logged in."""
    if not request.path.startswith("/admin"):
        return {}
    return {"csrf_token": csrf_token, "operator": current_operator()}
