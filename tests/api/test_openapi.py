"""The OpenAPI document: the committed copy is current, every route of the app is in it with its
roles and errors, it is valid OpenAPI 3.1, and the app serves it without a token."""
from __future__ import annotations

import importlib.util
import json
from typing import Any, ClassVar, Iterator

import pytest
from pydantic import BaseModel, Field

from chalicelib.api import openapi
from chalicelib.api.endpoint import PUBLIC, SIGNED_IN, Endpoint
from chalicelib.common.errors import Kind
from tests.conftest import ROOT

COMMITTED = ROOT / "docs" / "openapi.json"
REGENERATE = ".venv/bin/python -m chalicelib.api.openapi > docs/openapi.json"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def app_module() -> Any:
    import app  # registers every endpoint
    return app


@pytest.fixture(scope="module")
def document(app_module: Any) -> dict[str, Any]:
    return json.loads(openapi.openapi_json())


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolves(doc: dict[str, Any], ref: str) -> bool:
    if not ref.startswith("#/"):
        return False
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_the_committed_document_is_current(app_module):
    # Given the app with every endpoint registered
    # When the document is generated
    generated = openapi.openapi_json()
    # Then it is byte for byte the committed docs/openapi.json
    committed = COMMITTED.read_text() if COMMITTED.exists() else ""
    assert committed == generated, f"docs/openapi.json is stale: run `{REGENERATE}`"


def test_every_route_of_the_app_is_documented_with_roles_and_errors(app_module, document):
    # Given every route Chalice serves
    routes = [(path, method.lower()) for path, entries in app_module.app.routes.items()
              for method in entries]
    # When each is looked up in the document
    problems = []
    for path, method in sorted(routes):
        op = document["paths"].get(path, {}).get(method)
        if op is None:
            problems.append(f"{method.upper()} {path}: not documented (not an endpoint yet?)")
            continue
        problems += [f"{method.upper()} {path}: {p}" for p in _operation_problems(op)]
    # Then each is there with who may call it, its security and its error responses
    assert not problems, "\n".join(problems)


def _operation_problems(op: dict[str, Any]) -> list[str]:
    """What a documented operation lacks. A 4xx is required where a request can be refused: when
    it needs a token or takes parameters or a body (a public route without input has none)."""
    statuses = set(op.get("responses", {}))
    public = op.get("x-roles") == openapi.ANYONE
    takes_input = bool(op.get("parameters") or op.get("requestBody"))
    problems = [] if "x-roles" in op else ["no x-roles"]
    if not public and not op.get("security"):
        problems.append("no security requirement")
    if (not public or takes_input) and not any(s.startswith("4") for s in statuses):
        problems.append("no 4xx error response")
    if "500" not in statuses:
        problems.append("no 500 response")
    return problems


def test_the_document_is_valid_openapi_3_1(document):
    # Given the generated document
    # When its structure is checked
    operation_ids = [op["operationId"] for _, _, op in _operations(document)]
    unresolved = sorted({r for r in _refs(document) if not _resolves(document, r)})
    # Then it is OpenAPI 3.1.0 with resolvable references, responses and unique operation ids
    assert document["openapi"] == "3.1.0"
    assert not unresolved, f"unresolved $ref: {unresolved}"
    assert all(op.get("responses") for _, _, op in _operations(document))
    assert len(operation_ids) == len(set(operation_ids)), "duplicate operationId"
    # And the reference validator agrees, when it is installed
    if importlib.util.find_spec("openapi_spec_validator") is not None:
        from openapi_spec_validator import OpenAPIV31SpecValidator
        OpenAPIV31SpecValidator(document).validate()


def test_the_app_serves_the_document_without_a_token(api):
    # Given no token
    # When the document is requested
    r = api.get("/openapi.json")
    # Then it is the generated document
    assert r.status_code == 200, r.json
    assert r.json == json.loads(openapi.openapi_json())


# --- the generator on endpoints of its own (independent of the app's routes) -----------------

class Place(BaseModel):
    name: str


class Visit(BaseModel):
    place: Place
    note: str | None = None
    error_codes: ClassVar[dict[str, str]] = {"note": "invalid_note"}


class VisitQuery(BaseModel):
    day: str | None = Field(default=None, alias="date", description="YYYY-MM-DD")
    kind: str


SAMPLE = [
    Endpoint("POST", "/visits/{visit_id}", "add_visit", "Add", ("employee",), body=Visit,
             response=Visit, created=True, needs_nip=True,
             errors={Kind.CONFLICT: ("visit_exists",)},
             content_types=("application/json", "text/csv"), raw_body=True),
    Endpoint("GET", "/visits", "list_visits", "List", SIGNED_IN, query=VisitQuery,
             response=list[Place]),
    Endpoint("GET", "/health", "health", "Health", PUBLIC),
]


def test_the_generator_documents_inputs_outputs_and_errors():
    # Given endpoints of each kind (created, query, raw body, public)
    # When their document is built
    doc = openapi.build_document(SAMPLE)
    add = doc["paths"]["/visits/{visit_id}"]["post"]
    listing = doc["paths"]["/visits"]["get"]
    health = doc["paths"]["/health"]["get"]
    codes = {s: r.get("x-error-codes") for s, r in add["responses"].items()}
    # Then success, declared and implicit errors are each under their status
    visit = {"$ref": "#/components/schemas/Visit"}  # one definition for body and response
    assert add["responses"]["201"]["content"]["application/json"]["schema"] == visit
    assert add["requestBody"]["content"]["application/json"]["schema"] == visit
    assert codes["409"] == ["visit_exists"] and "no_nip" in codes["403"]
    assert {"invalid_note", "missing_fields"} <= set(codes["422"])
    assert {"invalid_json", "body_too_deep"} <= set(codes["400"]) and "invalid_number" in codes["422"]
    assert codes["413"] == ["body_too_large"]  # every route bounds its body
    assert codes["415"] == ["unsupported_media_type"]  # a route with a body: another Content-Type
    assert set(codes) == {"201", "400", "401", "403", "409", "413", "415", "422", "500", "503"}
    # And a raw body lists each content type; the path parameter is declared
    assert set(add["requestBody"]["content"]) == {"application/json", "text/csv"}
    assert add["parameters"] == [{"name": "visit_id", "in": "path", "required": True,
                                  "schema": {"type": "string", "minLength": 1, "maxLength": 256}}]
    assert "invalid_path_parameter" in codes["400"]
    # And the query model becomes parameters (by alias), not a component
    query = [(p["name"], p["required"]) for p in listing["parameters"]]
    assert query == [("date", False), ("kind", True)]
    assert "VisitQuery" not in doc["components"]["schemas"]
    assert listing["x-roles"] == openapi.ANY_SIGNED_IN and "403" not in listing["responses"]
    # And a public route needs no token and refuses nothing but an oversized body or a server error
    assert health["security"] == [] and set(health["responses"]) == {"200", "413", "500"}


def test_a_rejected_result_is_documented_with_its_status():
    # Given an endpoint whose 422 carries the result itself (a rejected, stored check-in)
    ep = Endpoint("POST", "/visits", "add", "Add", ("employee",), body=Visit, response=Visit,
                  result_on=(Kind.INVALID,))
    # When its document is built
    responses = openapi.build_document([ep])["paths"]["/visits"]["post"]["responses"]
    # Then the 422 is the error envelope or the result, other errors the envelope only
    schema = responses["422"]["content"]["application/json"]["schema"]
    assert schema == {"oneOf": [{"$ref": "#/components/schemas/Error"}, {"$ref": "#/components/schemas/Visit"}]}
    assert responses["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
