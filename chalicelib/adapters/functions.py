"""The application's own Lambda functions (the employee import, the analytics jobs), invoked
synchronously, and the envelope both sides share: ``{"result": ...}`` or ``{"error": {kind, code,
message, details}}``, so an error raised in the function is raised again, unchanged, in the caller."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters import aws
from chalicelib.common.errors import HadirError, JsonObject, Kind, Unavailable
from chalicelib.common.logs import logger


def error_answer(exc: HadirError) -> JsonObject:
    """The function's side: its error as the envelope carries it."""
    return {"error": {"kind": str(exc.kind), **exc.to_dict()}}


def result_of(payload: Any, *, failed_code: str, unavailable_code: str, what: str) -> Any:
    """The caller's side: the envelope's result, or its error raised with its own kind and code."""
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        e = payload["error"]
        try:
            kind = Kind(e.get("kind"))
        except ValueError:
            kind = Kind.INTERNAL
        raise HadirError(str(e.get("message") or ""), code=str(e.get("code") or failed_code),
                         details=e.get("details") if isinstance(e.get("details"), dict) else {}, kind=kind)
    if not isinstance(payload, dict) or "result" not in payload:
        raise Unavailable(f"The {what} function answered nothing usable", code=unavailable_code,
                          details={"reason": "bad_answer"})
    return payload["result"]


@contextmanager
def starting(unavailable_code: str, message: str) -> Iterator[None]:
    """Around the adapter's own ``invoke`` call: AWS refusing or throttling it is 503
    ``unavailable_code`` with ``message`` (the call stays in the adapter, where the roles'
    grants are derived from: tests/infra/calls.py)."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        failure = aws.aws_failure(exc, message, unavailable_code)
        raise Unavailable(failure.message, code=unavailable_code, details=failure.details) from exc


def decoded(out: Any, function_name: str, *, unavailable_code: str, failed: str) -> Any:
    """A ``RequestResponse`` invocation's answer, decoded (None if not JSON); the function
    failing (a timeout, a crash) is 503 ``unavailable_code`` with ``failed`` and
    ``reason: function_error``."""
    with starting(unavailable_code, failed):
        raw = out["Payload"].read()
    if out.get("FunctionError"):  # operators only: the function's own error type, never to the client
        logger.warning("function failed", extra={"function": function_name, "error_type": _error_type(raw)})
        raise Unavailable(failed, code=unavailable_code, details={"reason": "function_error"})
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None


def _error_type(raw: bytes) -> str:
    try:
        return str(json.loads(raw).get("errorType", "unknown"))[:80]
    except (ValueError, AttributeError):
        return "unknown"
