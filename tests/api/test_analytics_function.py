"""The recap and the daily export run in the analytics function (pyarrow; the only writer of the
exports bucket): the API and the scheduled exports invoke it through ``LambdaAnalytics`` (here over
a fake Lambda client running ``analytics.handler`` as Lambda would, JSON in and out), or in process
without HADIR_ANALYTICS_FUNCTION."""
import json

import pytest

from chalicelib.adapters.analytics import InProcessAnalytics, LambdaAnalytics, handle
from tests import fakes
from tests.api.test_jobs import run

FUNCTION = "hadir-test-analytics"


def _handler(event, context):
    from analytics import handler
    return handler(event, context)


def FakeLambda(**kw):
    """The analytics function behind a fake Lambda client."""
    return fakes.FakeLambda(_handler, **kw)


@pytest.fixture
def through_lambda(api):
    from chalicelib import wiring

    def _use(fake):
        wiring.configure(**{**wiring._overrides, "analytics": LambdaAnalytics(lambda: fake, FUNCTION)})
        return fake
    return _use


def test_the_recap_route_invokes_the_function_and_answers_its_run(api, set_now, through_lambda):
    fake = through_lambda(FakeLambda())
    set_now("2026-04-02T09:00:00+08:00")
    r = api.post("/admin/recaps", {"month": "2026-03"}, user="admin")
    assert r.status_code == 201, r.json
    [call] = fake.calls
    assert call["FunctionName"] == FUNCTION and call["InvocationType"] == "RequestResponse"
    assert json.loads(call["Payload"]) == {"job": "recap", "month": "2026-03", "actor": "admin"}
    assert r.json["month"] == "2026-03" and {f["name"] for f in r.json["files"]} >= {"recap.parquet", "recap.csv"}


def test_the_functions_refusal_comes_back_as_the_same_error(api, set_now, through_lambda):
    through_lambda(FakeLambda())
    set_now("2026-04-02T09:00:00+08:00")
    r = api.post("/admin/recaps", {"month": "2099-01"}, user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_month", r.json


@pytest.mark.parametrize("fake", [FakeLambda(function_error="Sandbox.Timedout"),
                                  FakeLambda(aws_error="TooManyRequestsException")])
def test_a_failed_or_throttled_function_is_unavailable_and_nothing_is_half_claimed(api, set_now, through_lambda,
                                                                                    fake):
    through_lambda(fake)
    set_now("2026-04-02T09:00:00+08:00")
    r = api.post("/admin/recaps", {"month": "2026-03"}, user="admin")
    assert r.status_code == 503 and r.json["error"]["code"] == "analytics_unavailable", r.json
    assert "Sandbox" not in json.dumps(r.json)  # operators' detail stays in the logs


def test_the_scheduled_export_invokes_the_function_for_its_zone(api, set_now, through_lambda):
    fake = through_lambda(FakeLambda())
    set_now("2026-03-04T10:31:00+08:00")
    out = run("export_wita")
    assert [json.loads(c["Payload"]) for c in fake.calls] == [{"job": "export", "zone": "WITA"}]
    assert out["date"] == "2026-03-03" and out["parquet_key"].startswith(
        "analytics/attendance/date=2026-03-03/agency=pemkab-demo/run=")


@pytest.mark.parametrize("event", [None, [], {}, {"job": "delete"}, {"job": "recap", "month": "2026-03"},
                                   {"job": "recap", "month": 3, "actor": "a"}, {"job": "export"},
                                   {"job": "export", "zone": "WITA", "date": "kemarin"}])
def test_a_malformed_event_is_refused_with_a_code(api, event):
    from chalicelib.wiring import get_services
    out = handle(get_services(), event)
    assert out["error"]["code"] == "invalid_analytics_event", out


def test_without_a_function_the_job_runs_in_process(api):
    from chalicelib.wiring import get_services
    assert isinstance(get_services().analytics, InProcessAnalytics)
