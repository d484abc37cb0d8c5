"""The request paths that list staff read through keys and indexes only (issue 14, item 2): the team
view, the review queue, the monthly recap and the roster publish make no Scan of a table that grows
with staff or history, counted by a hook on every botocore call over the moto stack. The team view
and the roster read their staff's offices by key through the policy cache, so they Scan nothing;
the recap (a monthly job walking every office) and admin lists still Scan the offices table, on
purpose: an agency's offices, a handful to a few thousand (docs/capacity.md).
And the approved requests covering a day are one bounded range of by_status, not every one ever."""
from __future__ import annotations

from collections import Counter

import botocore.client
import pytest

from chalicelib.common import resources
from tests.api.helpers import AYU, KETUT
from tests.api.test_reviews import WINDOW, given_flagged
from tests.api.test_rosters import UNIT, WEEK, records

OFFICES = "-" + resources.OFFICES.logical  # physical names end in -<logical>


@pytest.fixture
def scans(monkeypatch) -> Counter:
    """The tables Scanned from here on (and every operation, under key ``"ops"``), whichever
    client makes the call (PynamoDB, boto3 and the batch readers all end in _make_api_call)."""
    seen: Counter = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counted(self, operation_name, api_params):
        if self.meta.service_model.service_name == "dynamodb":
            seen[("op", operation_name)] += 1
            if operation_name == "Scan":
                seen[api_params.get("TableName", "?")] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)
    return seen


def growing_scans(seen: Counter) -> dict:
    """The Scans of any table but the offices'."""
    return {k: n for k, n in seen.items() if isinstance(k, str) and not k.endswith(OFFICES)}


def test_the_team_view_and_the_review_queue_of_a_unit_make_no_scan(api, set_now, scans):
    # Given Ayu's flagged check-in
    given_flagged(api, set_now)
    scans.clear()
    # When the admin opens Ayu's unit's team view and review queue, and her supervisor his
    unit = "&unit=Bagian Umum Denpasar"
    now = api.get("/team/now?" + unit[1:], user="admin")
    queue = api.get("/team/reviews" + WINDOW + unit, user="admin")
    own = api.get("/team/reviews" + WINDOW, user=KETUT)
    # Then they did their work
    assert now.status_code == 200 and AYU in {s["nip"] for s in now.json["staff"]}
    assert [i["nip"] for i in queue.json["items"]] == [AYU] == [i["nip"] for i in own.json["items"]]
    # through Query (by_unit, by_supervisor) and key reads, without a Scan of a growing table
    assert growing_scans(scans) == {}, scans
    assert scans[("op", "Query")] > 0
    # And the team view Scans nothing at all, its staff's offices read by key
    scans.clear()
    assert api.get("/team/now?" + unit[1:], user="admin").status_code == 200
    assert api.get("/team/now", user=KETUT).status_code == 200
    assert scans[("op", "Scan")] == 0, scans


def test_the_monthly_recap_walks_the_offices_staff_without_a_scan(api, set_now, scans):
    # Given the seeded staff, each in an office (the import requires one)
    everyone = {e.nip for e in records().employees()}
    scans.clear()
    # When the admin produces March's recap, then every employee is in it
    set_now("2026-04-02T09:00:00+08:00")
    r = api.post("/admin/recaps", {"month": "2026-03"}, user="admin")
    assert r.status_code == 201, r.json
    assert r.json["employees"] == len(everyone)
    assert growing_scans(scans) == {}, scans


def test_a_roster_of_a_unit_is_generated_and_published_without_a_scan(api, scans):
    unit_staff = {e.nip for e in records().employees() if e.unit == UNIT}
    scans.clear()
    proposal = api.post("/admin/rosters", {**WEEK, "max_share": 0.34}, user="admin")
    published = api.post("/admin/rosters/publish", {**WEEK, "max_share": 0.34}, user="admin")
    assert proposal.status_code == 200, proposal.json
    assert published.status_code in (200, 201), published.json
    assert {row["nip"] for row in published.json["staff"]} == unit_staff
    assert scans[("op", "Scan")] == 0, scans  # the staff's offices by key, not every office


def test_the_approved_requests_of_a_day_read_a_bounded_range_not_the_history(api, set_now, monkeypatch):
    # Given 30 approved requests of two years ago and one covering 3 March 2026
    from chalicelib.services.records import RequestRecord
    store = records()
    for n in range(31):
        start = "2026-03-02" if n == 30 else f"2024-0{1 + n % 9}-1{n % 10}"
        r = RequestRecord(request_id=f"rq-{n:02d}", nip=AYU, name="Ayu", type="leave", subtype="annual",
                          start=start, end=start if n < 30 else "2026-03-04", reason="x", working_days=1,
                          created_at="2024-01-01T00:00:00Z", updated_at="2024-01-01T00:00:00Z")
        store.create_request(r, "2024-01-01T00:00:00Z")
        stored = store.get_request(r.request_id)
        store.decide_request(stored.model_copy(update={"status": "approved"}), "request_approved", KETUT,
                             "2024-01-01T00:00:00Z")
    read: list[int] = []
    original = botocore.client.BaseClient._make_api_call

    def counted(self, operation_name, api_params):
        out = original(self, operation_name, api_params)
        if operation_name == "Query" and api_params.get("IndexName") == "by_status":
            read.append(out.get("ScannedCount", 0))
        return out

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)
    # When the absence job's read asks for the day's approved requests
    found = store.requests_with_status("approved", on="2026-03-03")
    # Then the one covering it, having read only the requests that started in the 92 days before
    assert [r.request_id for r in found] == ["rq-30"]
    assert sum(read) == 1, read
    # And an admin's list of approved requests (the default window) reads that one too, not the history
    read.clear()
    set_now("2026-03-03T08:00:00+08:00")
    listed = api.get("/team/requests?status=approved", user="admin")
    assert [r["request_id"] for r in listed.json["requests"]] == ["rq-30"], listed.json
    assert sum(read) == 1, read
