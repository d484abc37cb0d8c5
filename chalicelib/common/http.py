"""The one mapping from exceptions to HTTP responses, and the endpoint decorator using it.

A HadirError becomes ``{"error": {"code", "message", "details"}}`` with its status; anything else
is logged and becomes a 500 ``internal_error`` that leaks nothing.
"""
from __future__ import annotations

import functools
import json
from typing import Any, Callable

from chalice import Response

from chalicelib.common.errors import HadirError, InvalidInput, Kind, Malformed
from chalicelib.common.logs import flush_metrics, logger

JSON = {"Content-Type": "application/json"}

STATUS: dict[Kind, int] = {
    Kind.MALFORMED: 400, Kind.INVALID: 422, Kind.UNAUTHENTICATED: 401, Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404, Kind.CONFLICT: 409, Kind.GONE: 410, Kind.TOO_LARGE: 413,
    Kind.UNSUPPORTED: 415, Kind.TOO_MANY_ATTEMPTS: 429, Kind.UNAVAILABLE: 503, Kind.INTERNAL: 500,
}


def status_of(exc: HadirError) -> int:
    """The one place an error kind becomes an HTTP status."""
    return STATUS[exc.kind]


def error_response(exc: BaseException) -> Response:
    if isinstance(exc, HadirError):
        status = status_of(exc)
        if status >= 500:
            logger.error("service error", extra={"code": exc.code})
        else:
            logger.info("request refused", extra={"code": exc.code, "status": status})
        return Response({"error": exc.to_dict()}, status_code=status, headers=JSON)
    logger.exception("unhandled error")
    body = {"error": {"code": "internal_error", "message": "An internal error occurred.", "details": {}}}
    return Response(body, status_code=500, headers=JSON)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, headers={**JSON, **(headers or {})})


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a view so every exception goes through :func:`error_response`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the one place errors become HTTP
            return error_response(exc)
        finally:
            flush_metrics()
        if isinstance(result, Response):
            return result
        return json_response(result)

    return wrapper


def json_body(request: Any) -> Any:
    """The request's JSON body, or a 400 ``invalid_json``."""
    raw = request.raw_body
    if not raw:
        raise Malformed("A JSON body is required", code="missing_body")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed("The body is not valid JSON", code="invalid_json") from exc


def require_object(body: Any, *fields: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Malformed("A JSON object is expected", code="invalid_body")
    missing = [f for f in fields if body.get(f) in (None, "")]
    if missing:
        raise InvalidInput("Required fields are missing", code="missing_fields",
                         details={"fields": missing})
    return body
