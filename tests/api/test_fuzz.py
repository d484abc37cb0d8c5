"""Property-based fuzzing of every operation of the contract (``docs/openapi.json``) with
schemathesis, in process: valid and invalid requests, with a real token for one of each
operation's roles, must never answer 5xx, and every response must be documented (status code,
content type and body schema). A failure is a bug in the service or in the contract generator
(``chalicelib/api/openapi.py``), never in this check.

Bounded for CI: ``EXAMPLES`` per operation and generation mode, derandomized (the same cases on
every run), no example database, no shrinking deadline.
"""
from __future__ import annotations

import json
import time
from http import HTTPStatus
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.helpers import AYU, KETUT
from tests.conftest import ROOT

EXAMPLES = 12  # per operation and mode (~30 operations x 2): ~650 requests, ~20 s on one idle core
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
USER_OF_ROLE = {"employee": AYU, "supervisor": KETUT, "admin": "admin", "auditor": "auditor"}


def chalice_wsgi(client):
    """A WSGI app over ``chalice.test.Client``: schemathesis' WSGI transport drives the Chalice
    app in process, through the same local gateway as the other API tests."""
    def app(environ, start_response):
        path = environ.get("RAW_URI") or quote(environ.get("PATH_INFO", "/"))
        if environ.get("QUERY_STRING") and "?" not in path:
            path += "?" + environ["QUERY_STRING"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        r = client.http.request(environ["REQUEST_METHOD"], path, headers=headers, body=body)
        start_response(f"{r.status_code} {HTTPStatus(r.status_code).phrase}", list(r.headers.items()))
        return [r.body if isinstance(r.body, bytes) else (r.body or "").encode()]
    return app


def token_for(api, operation) -> str | None:
    roles = operation.definition.raw.get("x-roles")
    if not operation.definition.raw.get("security"):
        return None
    role = next((r for r in roles if r in USER_OF_ROLE), "employee") if isinstance(roles, list) else "employee"
    return api.token(USER_OF_ROLE[role])


def fuzz(operation, mode: GenerationMode, app, token: str | None, failures: list[str]) -> int:
    sent = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = case.call(app=app, headers=headers)
        sent.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # no invalid request exists (an operation without parameters nor body)
        pass
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every operation's failures, one report
        failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:3000]}")
    return len(sent)


@pytest.mark.fuzz
def test_no_input_gives_a_5xx_or_an_undocumented_response(api):
    # Given the contract and the app over the seeded world
    doc = json.loads((ROOT / "docs" / "openapi.json").read_text())
    schema = schemathesis.openapi.from_dict(doc)
    app = chalice_wsgi(api.client)
    started, total, failures = time.monotonic(), 0, []
    # When every operation is sent generated valid and invalid requests
    for result in schema.get_all_operations():
        operation = result.ok()
        token = token_for(api, operation)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            total += fuzz(operation, mode, app, token, failures)
    # Then none failed its checks (a failure raises with the case to reproduce), in bounded time
    elapsed = time.monotonic() - started
    print(f"fuzz: {total} requests in {elapsed:.1f}s")
    assert not failures, "\n\n".join(failures)
    assert total > 0 and elapsed < 300  # bounded by EXAMPLES; this only catches a runaway
