"""POST /auth/login's lockout: repeated failures per username lock it (429, Retry-After) without
asking Cognito, whether the user exists or not; the lock ends with its period; a success clears
the count. The clock is the injected one (set_now)."""
import pytest

from tests.api.helpers import AYU, MADE

T0 = "2026-03-03T08:00:00+08:00"


class CountingDirectory:
    """The real directory, counting the sign-ins that reach it."""

    def __init__(self, inner):
        self.inner, self.logins = inner, 0

    def login(self, username, password):
        self.logins += 1
        return self.inner.login(username, password)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def cognito(api):
    from chalicelib import wiring
    counting = CountingDirectory(wiring.get_services().directory)
    wiring.configure(**{**wiring._overrides, "directory": counting})
    return counting


def _login(api, username, password):
    return api.post("/auth/login", {"username": username, "password": password})


def _fail(api, username, times):
    for _ in range(times):
        r = _login(api, username, "wrong-password")
        assert r.status_code == 401 and r.json["error"]["code"] == "invalid_credentials", r.json


def test_five_failures_lock_the_username_even_for_the_right_password(api, set_now, cognito):
    # Given five wrong passwords for AYU within the window
    clock = set_now(T0)
    _fail(api, AYU, 4)
    clock.advance(minutes=5)
    _fail(api, AYU, 1)
    asked = cognito.logins
    # When AYU signs in with the right password
    r = _login(api, AYU, api.password)
    # Then the lock answers, with when to retry, and Cognito is not asked
    assert r.status_code == 429 and r.json["error"]["code"] == "too_many_attempts", r.json
    assert r.headers["Retry-After"] == "900" == str(r.json["error"]["details"]["retry_after_s"])
    assert r.json["error"]["details"]["until"] == "2026-03-03T00:20:00+00:00"
    assert cognito.logins == asked


def test_the_lock_ends_with_its_period_and_a_success_clears_the_count(api, set_now, cognito):
    # Given AYU locked at 08:05
    clock = set_now(T0)
    _fail(api, AYU, 5)
    clock.advance(minutes=14, seconds=59)
    assert _login(api, AYU, api.password).headers["Retry-After"] == "1"
    # When the lock is over
    clock.advance(seconds=1)
    # Then the right password signs in
    assert _login(api, AYU, api.password).status_code == 200
    # And the count starts afresh: four more failures do not lock
    _fail(api, AYU, 4)
    assert _login(api, AYU, api.password).status_code == 200


def test_a_success_resets_the_count(api, set_now):
    # Given four failures, then a success
    set_now(T0)
    _fail(api, AYU, 4)
    assert _login(api, AYU, api.password).status_code == 200
    # When four more fail
    _fail(api, AYU, 4)
    # Then the fifth attempt still reaches Cognito
    assert _login(api, AYU, api.password).status_code == 200


def test_failures_outside_the_window_do_not_add_up(api, set_now):
    clock = set_now(T0)
    _fail(api, AYU, 4)
    clock.advance(minutes=15)
    _fail(api, AYU, 4)
    assert _login(api, AYU, api.password).status_code == 200


def test_unknown_usernames_are_counted_and_answered_alike(api, set_now, cognito):
    # Given five failures for a username nobody has and for a real one
    set_now(T0)
    _fail(api, "199912312099121999", 5)
    _fail(api, MADE, 5)
    asked = cognito.logins
    # When both try again
    unknown = _login(api, "199912312099121999", "whatever")
    known = _login(api, MADE, "whatever")
    # Then both answers are the same lock, none reaching Cognito
    assert unknown.status_code == known.status_code == 429
    assert unknown.json == known.json and unknown.headers["Retry-After"] == known.headers["Retry-After"]
    assert cognito.logins == asked


def test_the_count_is_per_normalised_username(api, set_now):
    # Given failures under spellings of one username differing in case and spaces
    set_now(T0)
    _fail(api, "Admin", 2)
    _fail(api, " admin", 2)
    _fail(api, "ADMIN ", 1)
    # Then the username itself is locked
    assert _login(api, "admin", api.password).status_code == 429
    # And another is not
    assert _login(api, AYU, api.password).status_code == 200


@pytest.mark.parametrize("username,code", [
    ("x" * 129, "invalid_username"),
    ("ayu\u0000", "invalid_username"),
    ("ayu budi", "invalid_username"),
    ("   ", "invalid_username"),
    ("ayu\nbudi", "invalid_username"),
])
def test_a_huge_or_malformed_username_is_a_422_before_anything_is_counted(api, cognito, username, code):
    from chalicelib.adapters.storage.models import LoginAttemptModel
    r = _login(api, username, "whatever")
    assert r.status_code == 422 and r.json["error"]["code"] == code, r.json
    assert cognito.logins == 0
    assert LoginAttemptModel.count() == 0


def test_the_limits_come_from_the_settings(api, set_now, setting):
    # Given two failures allowed, locked for a minute
    setting("HADIR_LOGIN_MAX_FAILURES", "2")
    setting("HADIR_LOGIN_LOCK_S", "60")
    clock = set_now(T0)
    _fail(api, AYU, 2)
    r = _login(api, AYU, api.password)
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
    clock.advance(seconds=60)
    assert _login(api, AYU, api.password).status_code == 200


def test_the_count_is_stored_in_dynamodb(api, set_now):
    from chalicelib.adapters.storage.models import LoginAttemptModel
    set_now(T0)
    _fail(api, AYU, 2)
    item = LoginAttemptModel.get(AYU, consistent_read=True)
    assert item.failures == 2 and item.locked_until is None and item.ttl is not None
