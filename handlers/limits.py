"""Limits every route shares, enforced before any handler reads the request."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge


def register(app: Flask) -> None:
    app.before_request(refuse_oversized_chunked_body)


def refuse_oversized_chunked_body() -> None:
    """A chunked body that reaches MAX_CONTENT_LENGTH is a 413: Werkzeug would cut it off silently.

    A body with Content-Length is checked by Werkzeug itself; read here, the body is cached for the handler.
    """
    limit = request.max_content_length
    if request.content_length is None and limit is not None and request.method in ("POST", "PUT", "PATCH"):
        if len(request.get_data()) >= limit:
            raise RequestEntityTooLarge()
