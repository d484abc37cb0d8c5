"""Where the writers of the exports bucket run: the monthly recap and the daily export write
Parquet (pyarrow, too large for the API's package beside the face engine), so both run in their
own function, ``analytics`` (its own package: requirements-analytics.txt; handler
``analytics.handler``), the only writer of the exports bucket. The API (POST /admin/recaps) and
the scheduled export functions invoke it; when no function is configured (the local stack, the
tests, the admin CLI) the same code runs in this process.

The payload is ``{"job": "recap", "month", "actor"}`` or ``{"job": "export", "zone", "date"?}``;
the answer ``{"result": ...}`` or, for a refusal, ``{"error": {"kind", "code", "message",
"details"}}``, rebuilt here as the same HadirError. One module holds both sides of that format.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any, Callable

from chalicelib.adapters import functions
from chalicelib.common.errors import HadirError, InvalidInput, JsonObject, Unavailable
from chalicelib.services.schemas import RecapRun

UNAVAILABLE = "analytics_unavailable"
RECAP, EXPORT = "recap", "export"


def request(job: str, **args: str | None) -> bytes:
    return json.dumps({"job": job, **{k: v for k, v in args.items() if v is not None}},
                      separators=(",", ":")).encode()


def _text(event: dict, name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"The analytics event needs {name} (a string)", code="invalid_analytics_event",
                           details={"field": name})
    return value


def _run(svc: Any, event: Any) -> JsonObject:
    from chalicelib.services import jobs, recap
    if not isinstance(event, dict) or event.get("job") not in (RECAP, EXPORT):
        raise InvalidInput("The analytics event needs a job (recap or export)", code="invalid_analytics_event",
                           details={"field": "job"})
    if event["job"] == RECAP:
        return recap.write_recap(svc, _text(event, "month"), actor=_text(event, "actor")).model_dump(mode="json")
    try:
        day = date.fromisoformat(_text(event, "date")) if event.get("date") is not None else None
    except ValueError:
        raise InvalidInput("The analytics event's date is not a date", code="invalid_analytics_event",
                           details={"field": "date"}) from None
    return jobs.export_day(svc, day, zone=_text(event, "zone"))


def handle(svc: Any, event: Any) -> JsonObject:
    """The function's side: run the job, answer its result or its error."""
    try:
        return {"result": _run(svc, event)}
    except HadirError as exc:
        return functions.error_answer(exc)


def answer(payload: Any) -> JsonObject:
    """The caller's side: the function's result, or its error raised."""
    result = functions.result_of(payload, failed_code="analytics_failed", unavailable_code=UNAVAILABLE,
                                 what="analytics")
    if not isinstance(result, dict):
        raise Unavailable("The analytics function answered nothing usable", code=UNAVAILABLE,
                          details={"reason": "bad_answer"})
    return result


def _recap(result: JsonObject) -> RecapRun:
    return RecapRun.model_validate(result)


class LambdaAnalytics:
    """Invokes the analytics function synchronously (``RequestResponse``) and waits for its run."""

    def __init__(self, lambda_provider: Callable[[], Any], function_name: str):
        self._lambda = lambda_provider
        self.function_name = function_name

    def recap(self, month: str, actor: str) -> RecapRun:
        return _recap(self._call(request(RECAP, month=month, actor=actor)))

    def export_day(self, zone: str, day: date | None = None) -> JsonObject:
        return self._call(request(EXPORT, zone=zone, date=day.isoformat() if day else None))

    def _call(self, payload: bytes) -> JsonObject:
        with functions.starting(UNAVAILABLE, "The analytics job could not be started; try again later"):
            out = self._lambda().invoke(FunctionName=self.function_name, InvocationType="RequestResponse",
                                        Payload=payload)
        return answer(functions.decoded(
            out, self.function_name, unavailable_code=UNAVAILABLE,
            failed="The analytics job failed; a run cut short wrote no manifest and repeating it is safe"))


class InProcessAnalytics:
    """Runs the job here, through the function's own code (``handle``), so both answer alike.
    ``services`` returns the process's Services."""

    local = True

    def __init__(self, services: Callable[[], Any]):
        self._services = services

    def recap(self, month: str, actor: str) -> RecapRun:
        return _recap(self._call(request(RECAP, month=month, actor=actor)))

    def export_day(self, zone: str, day: date | None = None) -> JsonObject:
        return self._call(request(EXPORT, zone=zone, date=day.isoformat() if day else None))

    def _call(self, payload: bytes) -> JsonObject:
        return answer(handle(self._services(), json.loads(payload)))
