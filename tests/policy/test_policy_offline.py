"""policy.offline: when a capture made offline may be judged, and the steps it may claim."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.common.errors import InvalidInput
from chalicelib.face.liveness import LivenessRules
from chalicelib.policy import offline

NOW = datetime(2026, 3, 3, 2, 30, tzinfo=timezone.utc)


def refused(fn, *args) -> str:
    with pytest.raises(InvalidInput) as exc:
        fn(*args)
    return exc.value.code


def test_the_capture_time_is_judged_in_utc_within_its_bounds():
    wita = timezone(timedelta(hours=8))
    assert offline.capture_moment(datetime(2026, 3, 3, 7, 50, tzinfo=wita), NOW, 12) == NOW - timedelta(hours=2, minutes=40)
    assert offline.capture_moment(NOW + timedelta(seconds=30), NOW, 12) == NOW + timedelta(seconds=30)  # clock drift
    assert refused(offline.capture_moment, NOW + timedelta(seconds=31), NOW, 12) == "offline_in_future"
    assert offline.capture_moment(NOW - timedelta(hours=12), NOW, 12) == NOW - timedelta(hours=12)
    assert refused(offline.capture_moment, NOW - timedelta(hours=12, seconds=1), NOW, 12) == "offline_too_old"


@pytest.mark.parametrize("steps, ok", [
    (["front", "left", "right"], True), (["front", "up", "down"], True), (["front", "left", "left"], True),
    (["left", "front", "right"], False), (["front", "left"], False), (["front", "left", "right", "up"], False),
    (["front", "front", "left"], False), ([], False),
])
def test_steps_are_front_then_as_many_allowed_turns_as_a_challenge(steps, ok):
    rules = LivenessRules()
    if ok:
        offline.check_steps(steps, rules)
    else:
        assert refused(offline.check_steps, steps, rules) == "invalid_offline_steps"


def test_an_agency_that_allows_only_left_and_right_refuses_up():
    rules = LivenessRules(directions=("left", "right"))
    assert refused(offline.check_steps, ["front", "left", "up"], rules) == "invalid_offline_steps"


def test_the_session_must_be_the_offline_one_for_these_steps():
    steps = ["front", "left", "right"]
    offline.check_session(True, steps, 3, steps)
    offline.check_session(False, ["front", "up", "left"], 3, None)  # online, unchanged
    for args in [(True, steps, 2, steps), (True, steps, 3, ["front", "right", "left"]),
                 (False, steps, 3, steps), (True, steps, 3, None)]:
        assert refused(offline.check_session, *args) == "offline_session_mismatch"


def test_the_delayed_reason_carries_both_times_and_the_delay():
    r = offline.delayed_reason(NOW - timedelta(hours=2), NOW)
    assert r == {"code": "delayed_capture", "effect": "flag", "captured_at": "2026-03-03T00:30:00+00:00",
                 "received_at": "2026-03-03T02:30:00+00:00", "delay_s": 7200}
