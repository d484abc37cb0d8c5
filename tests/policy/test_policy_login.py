"""policy.login: the username as counted, what cannot be one, when a refused one may retry."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.common.errors import InvalidInput
from chalicelib.policy.login import LoginLimit, LoginTurn, login_key, refused_until, username_problem

T0 = datetime(2026, 3, 3, tzinfo=timezone.utc)
LIMIT = LoginLimit(5, 900, 600)


@pytest.mark.parametrize("raw", ["admin", " Admin", "ADMIN\t", "ａｄｍｉｎ"])
def test_spellings_of_one_username_share_one_key(raw):
    assert login_key(raw) == "admin"


@pytest.mark.parametrize("raw,problem", [
    ("199001152015032001", None), ("  admin ", None), ("", "empty"), ("  ", "empty"),
    ("a b", "invalid_characters"), ("a\u0000", "invalid_characters"), ("a\u200bb", "invalid_characters"),
])
def test_username_problems(raw, problem):
    assert username_problem(raw) == problem


def test_a_lock_in_force_is_when_to_retry():
    assert refused_until(5, T0, T0 + timedelta(minutes=10), T0 + timedelta(minutes=1), LIMIT) == \
        T0 + timedelta(minutes=10)


def test_without_a_lock_the_window_end_is_when_to_retry_never_sooner_than_a_second():
    assert refused_until(5, T0, None, T0 + timedelta(minutes=1), LIMIT) == T0 + timedelta(minutes=15)
    late = T0 + timedelta(minutes=20)
    assert refused_until(5, T0, None, late, LIMIT) == late + timedelta(seconds=1)


def test_only_the_last_allowed_attempt_locks_and_retry_after_rounds_up():
    assert LoginTurn(True, 5).locks_on_failure(LIMIT) and not LoginTurn(True, 4).locks_on_failure(LIMIT)
    assert not LoginTurn(False, 5).locks_on_failure(LIMIT)
    assert LoginTurn(False, 5, T0 + timedelta(seconds=1.2)).retry_after_s(T0) == 2


def test_a_limit_must_be_positive():
    with pytest.raises(InvalidInput) as exc:
        LoginLimit(0, 900, -1)
    assert exc.value.code == "invalid_login_limit"
    assert [p["field"] for p in exc.value.details["problems"]] == ["max_failures", "lock_s"]
