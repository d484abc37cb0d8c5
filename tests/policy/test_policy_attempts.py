"""Attempt limits: five failed face checks in ten minutes cool the account down (policy/attempts.py)."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.common.errors import InvalidInput
from chalicelib.policy.attempts import AttemptLimit, failed_face_check, lockout

NOW = datetime(2026, 3, 3, 0, 0, tzinfo=timezone.utc)
LIMIT = AttemptLimit(max_failures=5, window_s=600, cooldown_s=600)


def ago(*minutes):
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_four_failures_in_the_window_are_not_yet_a_lockout():
    assert lockout(ago(1, 2, 3, 4), NOW, LIMIT) is None


def test_the_fifth_failure_in_ten_minutes_locks_until_ten_minutes_after_the_latest():
    out = lockout(ago(1, 2, 3, 4, 5), NOW, LIMIT)
    assert out is not None and out.failures == 5
    assert out.until == NOW + timedelta(minutes=9) and out.retry_after_s(NOW) == 540
    assert out.to_dict(NOW)["retry_after_s"] == 540


def test_failures_spread_over_more_than_the_window_do_not_lock():
    assert lockout(ago(1, 3, 5, 11, 13), NOW, LIMIT) is None


def test_the_lockout_ends_when_the_cool_down_has_passed():
    failures = ago(1, 2, 3, 4, 5)
    assert lockout(failures, NOW + timedelta(minutes=8), LIMIT) is not None
    assert lockout(failures, NOW + timedelta(minutes=9), LIMIT) is None


def test_only_mismatches_and_unverifiable_photos_count():
    assert failed_face_check("no_match", None) and failed_face_check(None, "no_face")
    assert not failed_face_check("match", None) and not failed_face_check(None, None)


@pytest.mark.parametrize("field", ["max_failures", "window_s", "cooldown_s"])
def test_a_limit_must_be_positive(field):
    with pytest.raises(InvalidInput) as err:
        AttemptLimit(**{field: 0})
    assert err.value.code == "invalid_attempt_limit"
