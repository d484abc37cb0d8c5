"""The employee import runs in its own function (``import_employees``, the only one with Cognito
admin rights): the API invokes it through ``LambdaImports`` (here over a fake Lambda client that
runs the handler as Lambda would, JSON in and out), or in process without HADIR_IMPORT_FUNCTION."""
import json

import pytest

from chalicelib.adapters.imports import InProcessImports, LambdaImports
from chalicelib.common.errors import TooLarge
from tests import fakes

FUNCTION = "hadir-test-import_employees"
ROW = {"nip": "198702142011012003", "name": "Komang Sari", "office_ids": ["kantor-denpasar"],
       "supervisor_nip": "197805122005011002", "password": "Sementara-123"}


def _handler(event, context):
    from chalicelib.api.events import import_employees
    return import_employees(event, context)


def FakeLambda(answer=None, **kw):
    """The import function (or ``answer``) behind a fake Lambda client."""
    return fakes.FakeLambda(answer or _handler, **kw)


@pytest.fixture
def through_lambda(api):
    from chalicelib import wiring

    def _use(fake):
        wiring.configure(**{**wiring._overrides, "imports": LambdaImports(lambda: fake, FUNCTION)})
        return fake
    return _use


def test_the_route_invokes_the_function_synchronously_with_the_rows_and_the_actor(api, through_lambda):
    # Given the import function behind a Lambda client
    fake = through_lambda(FakeLambda())
    # When an admin imports one good row and one bad one
    r = api.post("/admin/employees", [ROW, {"nip": "123", "name": "Short"}], user="admin")
    # Then the function was invoked once, waiting for its answer, with the rows and the admin
    assert r.status_code == 200, r.json
    [call] = fake.calls
    assert call["FunctionName"] == FUNCTION and call["InvocationType"] == "RequestResponse"
    assert json.loads(call["Payload"]) == {"rows": [ROW, {"nip": "123", "name": "Short"}], "actor": "admin"}
    # And the per-row answer is the function's, as the in-process import gives it
    assert r.json["created"] == 1 and r.json["failed"] == 1
    assert [row.get("error", {}).get("code") for row in r.json["rows"]] == [None, "invalid_nip"]
    assert api.post("/auth/login", {"username": ROW["nip"], "password": ROW["password"]}).status_code == 200


def test_a_refusal_of_the_whole_import_comes_back_as_the_same_error(api, through_lambda):
    # Given a function that refuses the import as a whole
    through_lambda(FakeLambda(answer=lambda event, ctx: {"error": {
        "kind": "too_large", "code": "too_many_rows", "message": "At most 1000 rows", "details": {}}}))
    r = api.post("/admin/employees", [ROW], user="admin")
    assert r.status_code == 413 and r.json["error"]["code"] == "too_many_rows"


def test_too_many_rows_are_refused_before_the_function_is_invoked(api, through_lambda):
    fake = through_lambda(FakeLambda())
    r = api.post("/admin/employees", [ROW] * 1001, user="admin")
    assert r.status_code == 413 and r.json["error"]["code"] == "too_many_rows"
    assert fake.calls == []


@pytest.mark.parametrize("fake,reason", [
    (FakeLambda(function_error="Sandbox.Timedout"), {"reason": "function_error"}),
    (FakeLambda(aws_error="TooManyRequestsException"), {}),  # the AWS code is logged, never answered
    (FakeLambda(aws_error="AccessDeniedException"), {}),
    (FakeLambda(answer=lambda event, ctx: "nonsense"), {"reason": "bad_answer"}),
])
def test_a_function_that_fails_or_is_throttled_is_a_503(api, through_lambda, fake, reason):
    through_lambda(fake)
    r = api.post("/admin/employees", [ROW], user="admin")
    assert r.status_code == 503 and r.json["error"]["code"] == "import_unavailable", r.json
    assert r.json["error"]["details"] == reason


def test_the_handler_imports_the_rows_as_the_actor(api):
    # Given the handler registered as the function import_employees
    from chalice.test import Client

    import app as app_module
    from chalicelib.wiring import get_services
    with Client(app_module.app, stage_name="test") as client:
        # When Lambda invokes it
        out = client.lambda_.invoke("import_employees", {"rows": [ROW], "actor": "admin"})
    # Then the row is saved, audited as the admin's, and the answer is the per-row result
    assert out.payload["result"]["created"] == 1 and out.payload["result"]["rows"][0]["ok"] is True
    trail = get_services().records.audit_trail(ROW["nip"])
    assert trail and trail[-1].actor == "admin"


@pytest.mark.parametrize("event", [{}, {"rows": "x", "actor": "admin"}, {"rows": [], "actor": ""}, ["rows"]])
def test_the_handler_refuses_a_malformed_event(api, event):
    from chalicelib.api.events import import_employees
    out = import_employees(event, None)
    assert out["error"]["code"] == "invalid_import_event" and out["error"]["kind"] == "invalid_input"


def test_without_a_function_the_import_runs_in_process_and_with_one_through_lambda(api, setting):
    from chalicelib.wiring import get_services
    assert isinstance(get_services().imports, InProcessImports)
    setting("HADIR_IMPORT_FUNCTION", FUNCTION)
    runner = get_services().imports
    assert isinstance(runner, LambdaImports) and runner.function_name == FUNCTION


def test_an_import_over_lambdas_payload_limit_is_a_413_before_invoking():
    # Given rows whose payload is over Lambda's 6 MB (the API's body limit stops them sooner:
    # this is the adapter's own guard)
    fake = FakeLambda()
    rows = [{**ROW, "name": "x" * 7000} for _ in range(1000)]
    # When the runner is asked to invoke with them
    with pytest.raises(TooLarge) as refused:
        LambdaImports(lambda: fake, FUNCTION).run(rows, "admin")
    # Then it refuses, naming the sizes, and the function was never invoked
    assert refused.value.code == "too_many_rows"
    assert refused.value.details["max_bytes"] < refused.value.details["bytes"]
    assert fake.calls == []
