"""The only code importing Flask: blueprints, error handlers and the `faq` command group."""

from __future__ import annotations

from flask import Flask

from . import cli, health


def register(app: Flask) -> None:
    app.register_blueprint(health.blueprint)
    app.cli.add_command(cli.faq)
