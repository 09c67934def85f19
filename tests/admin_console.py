"""An operator's steps in /admin through Flask's test client, as flaskr's AuthActions are for logging in."""

from __future__ import annotations

import re
from pathlib import Path

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "a long enough password"


def create_user(runner, name: str, role: str, password: str = PASSWORD):
    """`flask --app app admin create-user` with the password piped on stdin, as a deploy script would."""
    return runner.invoke(args=["admin", "create-user", name, "--role", role], input=password + "\n")


class Operator:
    """One browser session in the console: log in, post forms with the page's CSRF token."""

    def __init__(self, client):
        self.client = client

    def token(self, path: str = "/admin/login") -> str:
        page = self.client.get(path)
        found = CSRF.search(page.get_data(as_text=True))
        assert found, f"no form with a CSRF token on {path}"
        return found.group(1)

    def log_in(self, name: str, password: str = PASSWORD):
        return self.client.post("/admin/login", data={"name": name, "password": password, "csrf_token": self.token()})

    def post(self, path: str, data: dict | None = None, form_page: str = "/admin/"):
        """A form post carrying the token the console's pages give this session."""
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token(form_page)})


def draft_of(app) -> Path:
    """The console's draft folder in the app's knowledge store."""
    return app.extensions["knowledge_store"].draft("console")


def live_of(app) -> Path:
    """The folder the app serves: the store's live version (KNOWLEDGE_DIR until the first publish)."""
    return app.extensions["knowledge_store"].live.resolve()


def console_db(app):
    """The database holding the app's console accounts and audit log: SQLite, or PostgreSQL when configured."""
    return app.extensions["bot"].records_db
