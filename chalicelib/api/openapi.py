"""The API's OpenAPI 3.1 document, generated from the typed endpoints (``endpoint.ENDPOINTS``) and
their pydantic models, so the contract cannot drift from the code. Regenerate the committed copy
after changing a route or a schema (``tests/api/test_openapi.py`` fails until you do):

    .venv/bin/python -m chalicelib.api.openapi > docs/openapi.json

Importing this module is cheap: ``register`` only declares ``GET /openapi.json``; the document is
built on that route's first request and kept for the life of the process.

Every error response references the shared ``Error`` envelope and lists its possible codes
(``x-error-codes``): those the endpoint declares plus those every endpoint of its kind can produce
(body and query parsing in ``chalicelib.common.http``, token and role checks in
``chalicelib.adapters.auth`` and ``endpoint``).
"""
from __future__ import annotations

import functools
import json
import re
from http import HTTPStatus
from typing import Any, Iterable, Iterator, Mapping

from chalice import Blueprint
from pydantic import RootModel

from chalicelib.api.endpoint import (
    ENDPOINTS,
    PUBLIC,
    SIGNED_IN,
    Call,
    Endpoint,
    endpoint,
)
from chalicelib.common.errors import JsonObject, Kind
from chalicelib.common.http import MAX_PATH_PARAM, STATUS, success_status

VERSION = "1.0.0"  # the API contract's version (info.version)
SCHEMAS = "#/components/schemas/"
ERROR, PROBLEM = "Error", "ErrorProblem"
BEARER = "bearerAuth"
JSON_TYPE = "application/json"
ANYONE, ANY_SIGNED_IN = "anyone (no token)", "any signed-in user"  # x-roles of PUBLIC, SIGNED_IN
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
PATH_PARAM = re.compile(r"\{(\w+)\+?\}")
Codes = Mapping[Kind, tuple[str, ...]]

# Errors an endpoint answers with without declaring them, by where they are raised.
BODY_ERRORS: Codes = {Kind.MALFORMED: ("missing_body", "invalid_json", "invalid_body", "body_too_deep"),
                      Kind.INVALID: ("invalid_number",)}  # http.parse_body, http.check_json
SIZE_ERRORS: Codes = {Kind.TOO_LARGE: ("body_too_large",)}  # endpoint._run, every route
PATH_ERRORS: Codes = {Kind.MALFORMED: ("invalid_path_parameter",)}  # http.check_path_params
INPUT_ERRORS: Codes = {Kind.INVALID: ("missing_fields", "invalid_request")}  # http.invalid_input
TOKEN_ERRORS: Codes = {Kind.UNAUTHENTICATED: ("missing_token", "invalid_token", "token_expired", "wrong_agency"),
                       Kind.UNAVAILABLE: ("jwks_unavailable",),
                       Kind.INTERNAL: ("auth_not_configured",)}  # auth.principal_from_headers
ROLE_ERRORS: Codes = {Kind.FORBIDDEN: ("forbidden",)}  # auth.principal_from_headers
NIP_ERRORS: Codes = {Kind.FORBIDDEN: ("no_nip",)}  # endpoint._run
ANY_ERRORS: Codes = {Kind.INTERNAL: ("internal_error",)}  # http.error_response
MEDIA_ERRORS: Codes = {Kind.UNSUPPORTED: ("unsupported_media_type",)}  # http.framework_errors_enveloped

PROBLEM_SCHEMA: JsonObject = {
    "type": "object", "title": PROBLEM, "required": ["field", "code"],
    "description": "One invalid field of a request (``details.problems``): a domain parser's "
                   "problem carries its numbers (value, min, max) instead of a message.",
    "properties": {"field": {"type": "string", "description": "dotted path, e.g. location.lat"},
                   "code": {"type": "string", "description": "pydantic's error type or a code"},
                   "message": {"type": "string"}},
}
ERROR_SCHEMA: JsonObject = {
    "type": "object", "title": ERROR, "required": ["error"],
    "description": "The envelope of every error; the operation's response lists the codes.",
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"], "properties": {
            "code": {"type": "string", "description": "machine-readable: what exactly went wrong"},
            "message": {"type": "string", "description": "for people; may change"},
            "details": {"type": "object", "additionalProperties": True,
                        "description": "the numbers; validation errors list their problems",
                        "properties": {
                            "problems": {"type": "array", "items": {"$ref": SCHEMAS + PROBLEM}},
                            "fields": {"type": "array", "items": {"type": "string"},
                                       "description": "the missing fields (missing_fields)"}}},
        }}},
}


class OpenApiDocument(RootModel[JsonObject]):
    """This API's OpenAPI 3.1 document (the committed copy is docs/openapi.json)."""


def register(bp: Blueprint) -> None:
    """Declare ``GET /openapi.json`` (public) on ``bp``; nothing is built until it is requested."""

    @endpoint(bp, "GET", "/openapi.json", summary="This API's OpenAPI 3.1 document", roles=PUBLIC,
              response=OpenApiDocument, notes="Generated from the endpoints and their models; "
              "the same document as docs/openapi.json in the repository.")
    def openapi_document(call: Call[None, None]) -> JsonObject:
        return _document()


@functools.cache
def _document() -> JsonObject:
    """The document of every registered endpoint, built once per process (on first use)."""
    return json.loads(openapi_json())


def openapi_json() -> str:
    """The document as the committed file spells it: sorted keys, indent 2, final newline."""
    return json.dumps(build_document(), indent=2, sort_keys=True) + "\n"


def build_document(endpoints: Iterable[Endpoint] = ENDPOINTS) -> JsonObject:
    """The OpenAPI 3.1.0 document of ``endpoints``; models shared between them are defined once."""
    eps = sorted(endpoints, key=lambda e: (e.path, METHODS.index(e.method.lower())))
    _check_unique(eps)
    inline, schemas = _schemas(eps)
    paths: dict[str, JsonObject] = {}
    for i, ep in enumerate(eps):
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep, i, inline, schemas)
    doc: JsonObject = {
        "openapi": "3.1.0",
        "info": {"title": "Hadir API", "version": VERSION,
                 "description": "Serverless attendance (presensi) for Indonesian civil servants "
                                "(ASN). Routes, roles, the error envelope and a walk-through: "
                                "README.md (section API) and docs/local-stack.md in the "
                                "repository."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"securitySchemes": {BEARER: {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "Authorization: Bearer <Cognito id token> (from POST /auth/login)"}}},
    }
    doc["components"]["schemas"] = _reachable(paths, schemas)
    return doc


def _check_unique(eps: list[Endpoint]) -> None:
    """Two endpoints on one route, or sharing an operationId, are a registration bug."""
    routes = [(e.method.lower(), e.path) for e in eps]
    names = [e.name for e in eps]
    for label, items in (("route", routes), ("operationId", names)):
        dupes = sorted({str(x) for x in items if items.count(x) > 1})
        if dupes:
            raise ValueError(f"duplicate {label}: {', '.join(dupes)}")


def _schemas(eps: list[Endpoint]) -> tuple[dict[tuple[str, int], Any], JsonObject]:
    """Each endpoint's body/query (validation) and response (serialization) schema, referencing
    ``components/schemas``, and those definitions (plus the error envelope)."""
    from pydantic import (
        TypeAdapter,  # pydantic.json_schema: only when a document is built
    )

    inputs = []
    for i, ep in enumerate(eps):
        for role, model, mode in (("body", ep.body, "validation"),
                                  ("query", ep.query, "validation"),
                                  ("response", ep.response, "serialization")):
            if model is not None:
                inputs.append(((role, i), mode, TypeAdapter(model)))
    mapping, defs = TypeAdapter.json_schemas(inputs, ref_template=SCHEMAS + "{model}")
    schemas = defs.get("$defs", {})
    clash = {ERROR, PROBLEM} & set(schemas)
    if clash:
        raise ValueError(f"a model is named like the error envelope: {', '.join(sorted(clash))}")
    schemas.update({ERROR: ERROR_SCHEMA, PROBLEM: PROBLEM_SCHEMA})
    return {key: schema for (key, _mode), schema in mapping.items()}, schemas


def _operation(ep: Endpoint, i: int, inline: Mapping[tuple[str, int], Any],
               schemas: Mapping[str, Any]) -> JsonObject:
    """One operation: identity, who may call it, what it takes and every response it may give."""
    op: JsonObject = {
        "operationId": ep.name, "summary": ep.summary, "tags": [ep.path.strip("/").split("/")[0]],
        "x-roles": _roles(ep), "security": [] if ep.roles == PUBLIC else [{BEARER: []}],
        "parameters": _parameters(ep, _deref(inline.get(("query", i)), schemas)),
        "responses": {**_success(ep, inline.get(("response", i))),
                      **_error_responses(ep, inline.get(("response", i)))},
    }
    if ep.notes:
        op["description"] = ep.notes
    if ep.body is not None or ep.raw_body:
        op["requestBody"] = _request_body(ep, inline.get(("body", i)))
    if not op["parameters"]:
        del op["parameters"]
    return op


def _roles(ep: Endpoint) -> list[str] | str:
    """The Cognito groups allowed (any of), or who else may call it."""
    if ep.roles == PUBLIC:
        return ANYONE
    if ep.roles is SIGNED_IN:
        return ANY_SIGNED_IN
    return list(ep.roles)


def _deref(schema: Any, schemas: Mapping[str, Any]) -> Any:
    """A top-level ``$ref`` replaced by its definition (a query model is split into parameters)."""
    if isinstance(schema, dict) and "$ref" in schema:
        return schemas[schema["$ref"].removeprefix(SCHEMAS)]
    return schema


def _parameters(ep: Endpoint, query: Mapping[str, Any] | None) -> list[JsonObject]:
    """Path parameters (``{x}`` in the path, always strings) and the query model's fields."""
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "string", "minLength": 1, "maxLength": MAX_PATH_PARAM}}
              for name in PATH_PARAM.findall(ep.path)]
    required = set((query or {}).get("required", ()))
    for name, schema in (query or {}).get("properties", {}).items():
        param = {"name": name, "in": "query", "required": name in required,
                 "schema": _absent_not_null(schema)}
        if "description" in schema:
            param["description"] = schema["description"]
        params.append(param)
    params += [{"name": name, "in": "header", "required": False, "schema": {"type": "string"},
                "description": what} for name, what in ep.headers.items()]
    return params


def _absent_not_null(schema: Mapping[str, Any]) -> JsonObject:
    """An optional query value's schema without pydantic's ``null`` branch: a query string has no
    null, the parameter is just left out."""
    branches = [b for b in schema.get("anyOf", ()) if b != {"type": "null"}]
    if len(branches) == len(schema.get("anyOf", ())):
        return dict(schema)
    out = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**out, **branches[0]} if len(branches) == 1 else {**out, "anyOf": branches}


def _request_body(ep: Endpoint, body: Any) -> JsonObject:
    """The body per accepted content type: JSON as the body model, anything else as text."""
    content = {}
    for ctype in ep.content_types:
        is_json = ctype == JSON_TYPE or ctype.endswith("+json")
        json_schema = body if body is not None else {}
        content[ctype] = {"schema": json_schema if is_json else {"type": "string"}}
    return {"required": not ep.body_optional, "content": content}


def _success(ep: Endpoint, response: Any) -> JsonObject:
    """The success response: 201 Created when the endpoint creates, else 200 (as ``http``)."""
    status = HTTPStatus(success_status(ep.created))
    out: JsonObject = {"description": status.phrase}
    if response is not None:
        out["content"] = {JSON_TYPE: {"schema": response}}
    return {str(status.value): out}


def _error_responses(ep: Endpoint, response: Any = None) -> JsonObject:
    """One response per possible error status, each the ``Error`` envelope with its codes (or,
    on a status of ``ep.result_on``, the envelope or the response model: a rejected result)."""
    outcome = {STATUS[kind] for kind in ep.result_on}
    by_status: dict[int, set[str]] = {}
    for kind, codes in _errors(ep):
        by_status.setdefault(STATUS[kind], set()).update(codes)
    out = {}
    for status, codes in sorted(by_status.items()):
        listed = sorted(codes)
        named = ", ".join(f"`{c}`" for c in listed)
        out[str(status)] = {
            "description": f"{HTTPStatus(status).phrase}. Codes: {named}",
            "x-error-codes": listed,
            "content": {JSON_TYPE: {"schema": {"$ref": SCHEMAS + ERROR}}},
        }
        if status in outcome and response is not None:
            out[str(status)]["content"][JSON_TYPE]["schema"] = {
                "oneOf": [{"$ref": SCHEMAS + ERROR}, response]}
    return out


def _errors(ep: Endpoint) -> Iterator[tuple[Kind, tuple[str, ...]]]:
    """The endpoint's declared errors and those its kind of endpoint can always produce."""
    tables: list[Codes] = [ep.errors, ANY_ERRORS, SIZE_ERRORS]
    if ep.body is not None:
        tables += [BODY_ERRORS, MEDIA_ERRORS]
    if PATH_PARAM.search(ep.path):
        tables.append(PATH_ERRORS)
    for model in (ep.body, ep.query):
        if model is not None:
            own = tuple(getattr(model, "error_codes", {}).values())
            tables += [INPUT_ERRORS, {Kind.INVALID: own}]
    if ep.roles != PUBLIC:
        tables.append(TOKEN_ERRORS)
    if ep.roles:
        tables.append(ROLE_ERRORS)
    if ep.needs_nip:
        tables.append(NIP_ERRORS)
    for table in tables:
        yield from table.items()


def _refs(node: Any) -> Iterator[str]:
    """The names of the component schemas ``node`` references."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMAS):
            yield ref.removeprefix(SCHEMAS)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _reachable(paths: Mapping[str, Any], schemas: Mapping[str, Any]) -> JsonObject:
    """The component schemas the operations use, directly or not (a query model, split into
    parameters, is left out unless something else references it)."""
    keep: JsonObject = {}
    todo = list(_refs(paths))
    while todo:
        name = todo.pop()
        if name not in keep:
            keep[name] = schemas[name]
            todo.extend(_refs(schemas[name]))
    return dict(sorted(keep.items()))


def main() -> None:
    """Print the document of every endpoint the app registers (importing the app registers them)."""
    import sys

    import app  # noqa: F401  (registers every Blueprint's endpoints)
    from chalicelib.api import (
        openapi,  # the registered module, not this ``__main__`` copy
    )
    sys.stdout.write(openapi.openapi_json())


if __name__ == "__main__":
    main()
