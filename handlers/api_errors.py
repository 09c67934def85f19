"""{"error": {"code", "message"}} for every API failure, with the right status: never an HTML page."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from bot.storage import StorageError

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
#: What a client told to come back after a database failure should wait, in seconds.
STORAGE_RETRY_AFTER_SECONDS = 5


class ApiError(Exception):
    """A client mistake the API explains: `code` for programs, `message` for people."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def register(app: Flask) -> None:
    """App-wide handlers: routing errors (404, 405) and 413 happen before a blueprint is chosen."""

    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        return error_response(error.status, error.code, error.message, error.headers)

    @app.errorhandler(StorageError)
    def storage_unavailable(error: StorageError):
        # The database is locked, read-only or gone: say so and when to retry; the bot logged the reason.
        log.error("request_failed: %s %s storage=%s", request.method, request.path, error)
        headers = {"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)}
        if request.path.startswith(API_PREFIX):
            return error_response(503, "unavailable", "the service is busy; please retry shortly", headers)
        return "Service Unavailable", 503, headers

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if not request.path.startswith(API_PREFIX):
            return error
        code = (error.name or "error").lower().replace(" ", "_")
        return error_response(error.code or 500, code, error.description or error.name, dict(_allow_header(error)))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        # The one broad handler for requests: log the traceback (no body), answer JSON or a plain 500.
        log.exception("request_failed: %s %s", request.method, request.path)
        if request.path.startswith(API_PREFIX):
            return error_response(500, "internal_error", "the server failed; please retry later")
        return "Internal Server Error", 500


def _allow_header(error: HTTPException):
    for name, value in error.get_headers():
        if name == "Allow":
            yield name, value
