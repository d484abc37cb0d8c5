"""Where an employee import runs: in its own Lambda function (the only one holding Cognito admin
rights; ``api/events.py`` ``import_employees``), or in this process when no function is
configured (the local stack and the tests: moto cannot run a Lambda without Docker).

The function's payload is ``{"rows": [...], "actor": "..."}``; its answer ``{"result":
ImportResult}`` or, for a refusal of the whole import, ``{"error": {"kind", "code", "message",
"details"}}``, rebuilt here as the same HadirError. One module holds both sides of that format.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters import aws
from chalicelib.common.errors import HadirError, InvalidInput, JsonObject, Kind, TooLarge, Unavailable
from chalicelib.common.logs import logger
from chalicelib.services.schemas import ImportResult

UNAVAILABLE = "import_unavailable"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 - 1024  # Lambda's synchronous payload limit, less a margin


def request(rows: list[JsonObject], actor: str) -> bytes:
    return json.dumps({"rows": rows, "actor": actor}, separators=(",", ":")).encode()


def handle(svc: Any, event: Any) -> JsonObject:
    """The function's side: run the import for the event, answer its result or its error."""
    from chalicelib.services import admin
    try:
        if not isinstance(event, dict) or not isinstance(event.get("rows"), list) \
                or not isinstance(event.get("actor"), str) or not event["actor"]:
            raise InvalidInput("The import event needs rows (a list) and an actor", code="invalid_import_event")
        result = admin.import_employees(svc, event["rows"], actor=event["actor"])
    except HadirError as exc:
        return {"error": {"kind": str(exc.kind), **exc.to_dict()}}
    return {"result": result.model_dump(mode="json")}


def answer(payload: Any) -> ImportResult:
    """The caller's side: the function's answer as a result, or its error raised."""
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        e = payload["error"]
        try:
            kind = Kind(e.get("kind"))
        except ValueError:
            kind = Kind.INTERNAL
        raise HadirError(str(e.get("message") or ""), code=str(e.get("code") or "import_failed"),
                         details=e.get("details") if isinstance(e.get("details"), dict) else {}, kind=kind)
    if not isinstance(payload, dict) or "result" not in payload:
        raise Unavailable("The import function answered nothing usable", code=UNAVAILABLE,
                          details={"reason": "bad_answer"})
    return ImportResult.model_validate(payload["result"])


class LambdaImports:
    """Invokes the import function synchronously (``RequestResponse``) and waits for its rows."""

    def __init__(self, lambda_provider: Callable[[], Any], function_name: str):
        self._lambda = lambda_provider
        self.function_name = function_name

    def run(self, rows: list[JsonObject], actor: str) -> ImportResult:
        payload = request(rows, actor)
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise TooLarge("The import is too large for one request; split it", code="too_many_rows",
                           details={"bytes": len(payload), "max_bytes": MAX_PAYLOAD_BYTES})
        try:
            out = self._lambda().invoke(FunctionName=self.function_name, InvocationType="RequestResponse",
                                        Payload=payload)
            raw = out["Payload"].read()
        except (ClientError, BotoCoreError) as exc:
            failure = aws.aws_failure(exc, "The import could not be started; try again later", UNAVAILABLE)
            raise Unavailable(failure.message, code=UNAVAILABLE, details=failure.details) from exc
        if out.get("FunctionError"):
            logger.warning("import function failed", extra={"error_type": _error_type(raw)})  # operators only
            raise Unavailable("The import failed part-way; rows already saved stay saved and "
                              "repeating the same import is safe", code=UNAVAILABLE,
                              details={"reason": "function_error"})
        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            payload = None
        return answer(payload)


def _error_type(raw: bytes) -> str:
    try:
        return str(json.loads(raw).get("errorType", "unknown"))
    except (ValueError, AttributeError):
        return "unknown"


class InProcessImports:
    """Runs the import here, through the same function-side code (``handle``), so both places
    answer alike. ``services`` returns the process's Services."""

    def __init__(self, services: Callable[[], Any]):
        self._services = services

    def run(self, rows: list[JsonObject], actor: str) -> ImportResult:
        return answer(handle(self._services(), json.loads(request(rows, actor))))
