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

from chalicelib.adapters import functions
from chalicelib.common.errors import HadirError, InvalidInput, JsonObject, TooLarge
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
        return functions.error_answer(exc)
    return {"result": result.model_dump(mode="json")}


def answer(payload: Any) -> ImportResult:
    """The caller's side: the function's answer as a result, or its error raised."""
    return ImportResult.model_validate(functions.result_of(
        payload, failed_code="import_failed", unavailable_code=UNAVAILABLE, what="import"))


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
        with functions.starting(UNAVAILABLE, "The import could not be started; try again later"):
            out = self._lambda().invoke(FunctionName=self.function_name, InvocationType="RequestResponse",
                                        Payload=payload)
        return answer(functions.decoded(
            out, self.function_name, unavailable_code=UNAVAILABLE,
            failed="The import failed part-way; rows already saved stay saved and repeating the same "
                   "import is safe"))


class InProcessImports:
    """Runs the import here, through the same function-side code (``handle``), so both places
    answer alike. ``services`` returns the process's Services."""

    def __init__(self, services: Callable[[], Any]):
        self._services = services

    def run(self, rows: list[JsonObject], actor: str) -> ImportResult:
        return answer(handle(self._services(), json.loads(request(rows, actor))))
