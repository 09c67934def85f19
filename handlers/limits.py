"""Limits every route shares, enforced before any handler reads the request."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge


def register(app: Flask) -> None:
    app.before_request(apply_a_views_own_body_limit)
    app.before_request(refuse_oversized_chunked_body)


def body_up_to(max_bytes: int) -> Callable:
    """A view that may take a larger body than MAX_CONTENT_LENGTH (a workbook, an entry with all its alternates)."""

    def mark(view: Callable) -> Callable:
        view.max_body_bytes = max_bytes
        return view

    return mark


def apply_a_views_own_body_limit() -> None:
    """Before anything reads the body (the chunked check below, a blueprint's CSRF check): the view's own limit."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    limit = getattr(view, "max_body_bytes", None)
    if limit is not None:
        request.max_content_length = limit


def refuse_oversized_chunked_body() -> None:
    """A chunked body that reaches MAX_CONTENT_LENGTH is a 413: Werkzeug would cut it off silently.

    A body with Content-Length is checked by Werkzeug itself; read here, the body is cached for the handler.
    """
    limit = request.max_content_length
    if request.content_length is None and limit is not None and request.method in ("POST", "PUT", "PATCH"):
        if len(request.get_data()) >= limit:
            raise RequestEntityTooLarge()
