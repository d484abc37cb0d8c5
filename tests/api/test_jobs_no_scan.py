"""The scheduled jobs read through keys and indexes only (issue 14): running the absence job and
the export over the moto stack makes no DynamoDB Scan, counted by a hook on every botocore call."""

from collections import Counter

import botocore.client
import pytest

from tests.api.test_jobs import given_ayu_checked_in, run


@pytest.fixture
def aws_calls(monkeypatch) -> Counter:
    """Every AWS operation made from here on, by service and name, whichever client makes it
    (PynamoDB, boto3 and the batch readers all end in BaseClient._make_api_call)."""
    calls: Counter = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counted(self, operation_name, api_params):
        calls[(self.meta.service_model.service_name, operation_name)] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)
    return calls


def test_absence_detection_and_the_export_never_scan_a_table(api, set_now, tap, aws_calls):
    # Given Ayu checked in; Made and Ketut did not
    given_ayu_checked_in(api, set_now)
    aws_calls.clear()
    # When the WITA absence job runs after the window, then the export after midnight
    set_now("2026-03-03T10:30:00+08:00")
    report = run("detect_absence_wita")
    set_now("2026-03-04T00:31:00+08:00")
    out = run("export_wita")
    # Then they did their work (the same as tests/api/test_jobs.py expects)
    assert report["absent"] == 2 and out["rows"] == 3
    # without a single Scan: the zone's offices, the office's staff and the day's records came
    # through Query (by_zone, by_office, by_date_shard) and BatchGetItem
    dynamodb = {op: n for (service, op), n in aws_calls.items() if service == "dynamodb"}
    assert "Scan" not in dynamodb, dynamodb
    assert dynamodb.get("Query", 0) > 0 and dynamodb.get("BatchGetItem", 0) > 0
