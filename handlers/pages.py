"""GET / serves the chat page: plain files in static/, talking only to /api/v1."""

from __future__ import annotations

from flask import Blueprint, current_app

blueprint = Blueprint("pages", __name__)


@blueprint.get("/")
def chat_page():
    return current_app.send_static_file("index.html")
