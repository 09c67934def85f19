"""The only code importing Flask: blueprints, error handlers and the `faq` and `wechat` command groups."""

from __future__ import annotations

from flask import Flask

from . import api, api_errors, cli, health, limits, pages, wechat, wechat_cli


def register(app: Flask) -> None:
    api_errors.register(app)
    limits.register(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(wechat.blueprint)
    app.cli.add_command(cli.faq)
    app.cli.add_command(wechat_cli.wechat)
