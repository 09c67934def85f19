"""`flask --app app admin create-user NAME --role editor|publisher`: accounts for the operators' console."""

from __future__ import annotations

import re
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from bot.storage import operators

from .admin_auth import hash_password

admin = AppGroup("admin", help="Accounts for the operators' console at /admin.")

NAME = re.compile(r"^[\w.@-]{1,64}$")
MIN_PASSWORD_CHARACTERS = 10


@admin.command("create-user")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(operators.ROLES), required=True, help="editor: drafts; publisher: also publishes."
)
def create_user_command(name: str, role: str) -> None:
    """Create an account (or set a new password and role); the password is read from stdin when piped, else asked."""
    if not NAME.match(name):
        raise click.BadParameter("letters, digits, '.', '@', '_' or '-', at most 64", param_hint="NAME")
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD_CHARACTERS:
        raise click.ClickException(f"the password needs at least {MIN_PASSWORD_CHARACTERS} characters")
    db = current_app.extensions["bot"].records_db  # the configured engine: SQLite, or PostgreSQL for every host
    new = operators.save_operator(db, name, hash_password(password), role)
    operators.audit(db, "(command line)", "created account" if new else "reset account", name, f"role {role}")
    click.echo(f"{'created' if new else 'updated'}: {name} ({role})")
