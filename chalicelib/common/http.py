"""HTTP in one place: error kinds to statuses, results to responses, request parsing.

A HadirError becomes ``{"error": {"code", "message", "details"}}`` with its kind's status; anything
else is logged and becomes a 500 ``internal_error`` that leaks nothing. Request bodies and query
strings are parsed into pydantic models, and validation errors translated into the same envelope.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, TypeVar

from chalice import Response
from pydantic import BaseModel, ValidationError

from chalicelib.common.errors import HadirError, InvalidInput, Kind, Malformed, TooLarge
from chalicelib.common.logs import flush_metrics, logger

JSON = {"Content-Type": "application/json"}
M = TypeVar("M", bound=BaseModel)

STATUS: dict[Kind, int] = {
    Kind.MALFORMED: 400, Kind.INVALID: 422, Kind.UNAUTHENTICATED: 401, Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404, Kind.CONFLICT: 409, Kind.GONE: 410, Kind.TOO_LARGE: 413,
    Kind.UNSUPPORTED: 415, Kind.TOO_MANY_ATTEMPTS: 429, Kind.UNAVAILABLE: 503, Kind.INTERNAL: 500,
    Kind.METHOD_NOT_ALLOWED: 405,
}
UNAVAILABLE_RETRY_AFTER_S = 1  # a throttle or a timeout of a dependency: retry in a second


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
        headers = dict(JSON)
        if exc.kind is Kind.TOO_MANY_ATTEMPTS and "retry_after_s" in exc.details:
            headers["Retry-After"] = str(exc.details["retry_after_s"])
        elif exc.kind is Kind.UNAVAILABLE:  # every 503 says when to retry (a retry is safe: issue 14)
            headers["Retry-After"] = str(exc.details.get("retry_after_s", UNAVAILABLE_RETRY_AFTER_S))
        return Response({"error": exc.to_dict()}, status_code=status, headers=headers)
    logger.exception("unhandled error")
    body = {"error": {"code": "internal_error", "message": "An internal error occurred.", "details": {}}}
    return Response(body, status_code=500, headers=JSON)


# Chalice's own refusals, before any view runs (``{"Code", "Message"}``): Hadir's kind and code.
_FRAMEWORK_ERRORS: dict[str, tuple[Kind, str, str]] = {
    "UnsupportedMediaType": (Kind.UNSUPPORTED, "unsupported_media_type",
                             "This route does not take that Content-Type"),
    "MethodNotAllowedError": (Kind.METHOD_NOT_ALLOWED, "method_not_allowed",
                              "This route does not take that method"),
}


def framework_errors_enveloped(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice middleware: the framework's own error responses (an unsupported media type or
    method) in the one envelope with a Hadir code, never its exception names; headers (``Allow``)
    kept."""
    response = get_response(event)
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or set(body) != {"Code", "Message"}:
        return response
    kind, code, message = _FRAMEWORK_ERRORS.get(str(body["Code"]), (
        (Kind.INTERNAL, "internal_error", "An internal error occurred.") if response.status_code >= 500
        else (Kind.MALFORMED, "bad_request", "The request cannot be read")))
    error = HadirError(message, code=code, kind=kind)
    return Response({"error": error.to_dict()}, status_code=status_of(error),
                    headers={**(response.headers or {}), **JSON})


@dataclass(frozen=True)
class Outcome:
    """A result whose status depends on what happened (a rejected check-in is still a record):
    ``error``'s status if given, invalid input's if ``rejected``, else 201 or 200."""

    body: Any
    error: HadirError | None = None
    rejected: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    created: bool = True


def respond(run: Callable[[], Any], *, created: bool = False) -> Response:
    """Run a view and map its result, or any exception, to a response (the one place)."""
    try:
        return _to_response(run(), created)
    except Exception as exc:  # noqa: BLE001 - the one place errors become HTTP
        return error_response(exc)
    finally:
        flush_metrics()


def success_status(created: bool) -> int:
    """201 Created for a request that created something, else 200 OK."""
    return 201 if created else 200


def _to_response(result: Any, created: bool) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Outcome):
        status = (status_of(result.error) if result.error is not None
                  else STATUS[Kind.INVALID] if result.rejected else success_status(result.created))
        return Response(dump(result.body), status_code=status, headers={**JSON, **result.headers})
    return Response(dump(result), status_code=success_status(created), headers=JSON)


def dump(body: Any) -> Any:
    """Response models (or lists of them) as JSON-ready data."""
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json")
    if isinstance(body, list):
        return [dump(b) for b in body]
    return body


# Bounds every body meets before it is parsed (a JSON body also its nesting and its numbers): no
# request is large, deep or numeric enough to cost the parser, the domain or DynamoDB anything.
MAX_BODY_BYTES = 2 * 1024 * 1024  # a Simpeg CSV of MAX_ROWS rows fits; API Gateway allows 10 MB
MAX_JSON_BYTES = 512 * 1024  # an import of MAX_ROWS rows as JSON fits
MAX_DEPTH = 16  # the deepest valid body (a polygon geofence) is 5
MAX_DIGITS = 24  # significant digits of a number (an 18-digit NIP sent as a number still parses)
MAX_EXPONENT = 300  # 1e308 is the largest float
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_TOKEN = re.compile(rb'[\[\]{}]|(?<![A-Za-z0-9_.])-?(?:NaN|Infinity)|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?')
MAX_PATH_PARAM = 256  # the longest id in a path (a review id: c.<nip>.<date>.<checkin_id>) is ~90


def check_path_params(params: Mapping[str, str]) -> None:
    """Malformed ``invalid_path_parameter`` (400) for a path parameter over ``MAX_PATH_PARAM``
    characters or with control characters: never a DynamoDB key (2 KB at most) nor echoed back."""
    for name, value in params.items():
        if len(value) > MAX_PATH_PARAM or not value.isprintable():
            raise Malformed(f"{name} is not a valid id", code="invalid_path_parameter",
                            details={"parameter": name, "max_chars": MAX_PATH_PARAM})


def check_body_size(raw: bytes, limit: int = MAX_BODY_BYTES) -> None:
    """TooLarge ``body_too_large`` (413) for a body over ``limit`` bytes."""
    if len(raw) > limit:
        raise TooLarge(f"The body is over {limit} bytes", code="body_too_large",
                       details={"bytes": len(raw), "max_bytes": limit})


def check_json(raw: bytes) -> None:
    """Refuse, before any parser runs, a JSON body over ``MAX_JSON_BYTES`` (413 ``body_too_large``),
    nested deeper than ``MAX_DEPTH`` (400 ``body_too_deep``), or with a number no field takes: NaN,
    Infinity, more than ``MAX_DIGITS`` digits or an exponent over ``MAX_EXPONENT`` (422
    ``invalid_number``). Strings are skipped, so their contents are never counted."""
    check_body_size(raw, MAX_JSON_BYTES)
    depth = 0
    for m in _TOKEN.finditer(_STRING.sub(b'""', raw)):
        tok = m.group()
        if tok in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise Malformed(f"The body is nested deeper than {MAX_DEPTH}", code="body_too_deep",
                                details={"max_depth": MAX_DEPTH})
        elif tok in (b"]", b"}"):
            depth -= 1
        else:
            _check_number(tok, m.start())


def _check_number(tok: bytes, offset: int) -> None:
    mantissa, _, exponent = tok.lower().partition(b"e")
    digits = len(mantissa.lstrip(b"-").replace(b".", b"").lstrip(b"0"))
    if (b"nan" in tok.lower() or b"infinity" in tok.lower() or digits > MAX_DIGITS
            or (exponent and abs(int(exponent[-6:])) > MAX_EXPONENT) or len(exponent) > 6):
        raise InvalidInput("A number is not finite or out of range", code="invalid_number",
                           details={"offset": offset, "max_digits": MAX_DIGITS,
                                    "max_exponent": MAX_EXPONENT})


def parse_body(raw: bytes, model: type[M]) -> M:
    """The JSON body as ``model`` (strict: no strings for numbers, no numbers for strings), once
    it passed ``check_json``."""
    if not raw.strip():
        raise Malformed("A JSON body is required", code="missing_body")
    check_json(raw)
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise invalid_input(exc, model) from None


def parse_query(params: Mapping[str, str], model: type[M]) -> M:
    """The query string as ``model`` (values are strings: parsed, e.g. dates)."""
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        raise invalid_input(exc, model) from None


def invalid_input(exc: ValidationError, model: type[BaseModel]) -> HadirError:
    """The one translation of validation errors into the error envelope: ``details.problems``
    lists each (field, code, message); the error's code is the model's for the first field
    that failed (``error_codes``), ``missing_fields`` when fields are only missing."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return Malformed("The body is not valid JSON", code="invalid_json")
    if any(not e["loc"] for e in errors):
        return Malformed("A JSON object is expected", code="invalid_body")
    problems = [{"field": ".".join(str(p) for p in e["loc"]), "code": e["type"], "message": e["msg"]}
                for e in errors]
    missing = [p["field"] for p in problems if p["code"] == "missing"]
    if len(missing) == len(problems):
        return InvalidInput("Required fields are missing", code="missing_fields",
                            details={"fields": missing, "problems": problems})
    first = next(e for e in errors if e["type"] != "missing")
    codes: Mapping[str, str] = getattr(model, "error_codes", {})
    code = codes.get(str(first["loc"][0]), "invalid_request")
    return InvalidInput(f"{problems[errors.index(first)]['field']}: {first['msg']}", code=code,
                        details={"problems": problems})
