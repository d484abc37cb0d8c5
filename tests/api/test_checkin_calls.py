"""The AWS round trips of one warm, accepted check-in, counted (local/awscalls.py): a regression
that adds a call fails here, not only in the benchmark."""
from datetime import datetime

import pytest

from chalicelib.common.clock import FixedClock
from chalicelib.wiring import get_services
from local.awscalls import AwsCalls
from tests.api.helpers import AYU, checkin_session, enrol, location

# One BatchGetItem (employee with the sites' copy, session, template, 3 candidate days, the recent
# attempts, the device's use), one TransactWriteItems, one S3 GetObject per frame: 3 for a
# single-photo check-in, 5 for the three frames of the liveness challenge these tests use.
MAX_CALLS = 5


def _check_in(api, session_id, device_id, when):
    body = {"session_id": session_id, "type": "in", "location": location(captured_at=when)}
    return api.post("/checkins", body, user=AYU, headers={"X-Device-Id": device_id} if device_id else None)


@pytest.mark.parametrize("device_id", [None, "ayu-phone-7f3a9c"])
def test_a_warm_accepted_checkin_makes_at_most_max_calls(api, set_now, device_id):
    # Given: enrolled, and a first check-in made (clients created, configuration cached)
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    first = _check_in(api, checkin_session(api, AYU), device_id, "2026-03-03T07:44:50+08:00")
    assert first.json["decision"] == "accepted", first.json
    get_services().clock = FixedClock(datetime.fromisoformat("2026-03-04T07:45:00+08:00"))
    session_id = checkin_session(api, AYU)
    # When
    with AwsCalls() as calls:
        r = _check_in(api, session_id, device_id, "2026-03-04T07:44:50+08:00")
    # Then: the frames are read one call each, everything else in two
    assert r.status_code == 201 and r.json["decision"] == "accepted", r.json
    assert calls.total <= MAX_CALLS, calls.by_operation
    frames = calls.counts["s3:GetObject"]
    assert calls.total - frames == 2 and frames == len(get_services().records.get_session(session_id).keys)


def test_data_written_before_is_read_as_before_once_then_in_max_calls(api, set_now):
    from chalicelib.adapters.storage.models import EmployeeModel, RecentModel
    # Given Ayu enrolled and a check-in made, then her items as stored before
    # issue 14: no sites' copy on the employee, no recent attempts item
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    assert _check_in(api, checkin_session(api, AYU), None, "2026-03-03T07:44:50+08:00").status_code == 201
    EmployeeModel.get(AYU).update(actions=[EmployeeModel.sites.remove()])
    RecentModel(AYU, "RECENT").delete(add_version_condition=False)
    records = get_services().records
    assert records.checkin_reads(AYU, "x", []).sites is None and records.checkin_reads(AYU, "x", []).recent is None
    # When she checks out
    get_services().clock = FixedClock(datetime.fromisoformat("2026-03-03T16:05:00+08:00"))
    session_id = checkin_session(api, AYU)
    with AwsCalls() as calls:
        body = {"session_id": session_id, "type": "out", "location": location(captured_at="2026-03-03T16:04:50+08:00")}
        r = api.post("/checkins", body, user=AYU)
    # Then the history and the sites are queried (two calls more), and both are stored for next time
    assert r.status_code == 201 and r.json["decision"] == "accepted", r.json
    assert calls.counts["dynamodb:Query"] == 2, calls.by_operation
    read = records.checkin_reads(AYU, "x", [])
    assert read.sites == records.sites_of(AYU) == [] and len(read.recent.entries) == 2 and read.recent.version == 1
