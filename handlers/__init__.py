"""The only code importing Flask: blueprints, error handlers and the `faq`, `wechat` and `admin` command groups."""

from __future__ import annotations

from flask import Flask

from . import (
    admin,
    admin_cli,
    api,
    api_errors,
    cli,
    health,
    limits,
    miniprogram_kf,
    pages,
    wechat,
    wechat_api,
    wechat_cli,
    wechat_menu,
)


def register(app: Flask) -> None:
    api_errors.register(app)
    limits.register(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(wechat.blueprint)
    app.register_blueprint(miniprogram_kf.blueprint)
    app.cli.add_command(cli.faq)
    wechat_cli.wechat.add_command(wechat_menu.menu)
    app.cli.add_command(wechat_cli.wechat)
    wechat_api.init_app(app)
    miniprogram_kf.init_app(app)
    admin.init_app(app)
    app.cli.add_command(admin_cli.admin)
