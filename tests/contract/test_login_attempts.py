"""One suite for both ``LoginAttempts`` adapters: DynamoDB (in moto) and in memory."""
from __future__ import annotations

import functools
import threading
from datetime import datetime, timedelta, timezone
from typing import Iterator

import boto3
import pytest
from moto import mock_aws

from chalicelib.adapters.memory.login_attempts import InMemoryLoginAttempts
from chalicelib.adapters.storage.login_attempts import DynamoLoginAttempts
from chalicelib.common.settings import get_settings, reset_settings
from chalicelib.policy.login import LoginLimit

T0 = datetime(2026, 3, 3, 0, 0, tzinfo=timezone.utc)
LIMIT = LoginLimit(max_failures=3, window_s=600, lock_s=300)


@functools.cache
def _client(service: str, region: str) -> object:
    return boto3.client(service, region_name=region)


@pytest.fixture(scope="module")
def dynamo() -> Iterator[DynamoLoginAttempts]:
    from local.bootstrap import create_all
    region = get_settings().region
    with mock_aws(), pytest.MonkeyPatch.context() as mp:
        for name, value in create_all(lambda service: _client(service, region), "test").items():
            mp.setenv(name, value)
        reset_settings()
        yield DynamoLoginAttempts(get_settings())
    reset_settings()


_keys = iter(range(10**6))


@pytest.fixture(params=["dynamo", "memory"])
def attempts(request):
    store = request.getfixturevalue("dynamo") if request.param == "dynamo" else InMemoryLoginAttempts()
    return store, f"user-{next(_keys)}"  # a fresh username per test (the module shares one table)


def _at(**delta: float) -> datetime:
    return T0 + timedelta(**delta)


def test_attempts_are_counted_up_to_the_limit_then_refused(attempts):
    store, key = attempts
    turns = [store.take(key, _at(seconds=i), LIMIT) for i in range(4)]
    assert [(t.allowed, t.failures) for t in turns[:3]] == [(True, 1), (True, 2), (True, 3)]
    # the last allowed one still in flight: refused until its window ends
    assert not turns[3].allowed and turns[3].retry_at == _at(seconds=600)


def test_only_the_limits_last_attempt_locks_on_failure(attempts):
    store, key = attempts
    turns = [store.take(key, T0, LIMIT) for _ in range(3)]
    assert [t.locks_on_failure(LIMIT) for t in turns] == [False, False, True]


def test_a_lock_refuses_until_it_ends_then_a_new_window_starts(attempts):
    store, key = attempts
    for _ in range(3):
        store.take(key, T0, LIMIT)
    store.lock(key, _at(seconds=300), T0, LIMIT)
    refused = store.take(key, _at(seconds=299), LIMIT)
    assert not refused.allowed and refused.retry_at == _at(seconds=300)
    assert refused.retry_after_s(_at(seconds=299)) == 1
    again = store.take(key, _at(seconds=300), LIMIT)
    assert again.allowed and again.failures == 1


def test_a_lock_outlives_the_window(attempts):
    store, key = attempts
    long_lock = LoginLimit(max_failures=3, window_s=60, lock_s=600)
    for _ in range(3):
        store.take(key, T0, long_lock)
    store.lock(key, _at(seconds=600), T0, long_lock)
    assert not store.take(key, _at(seconds=120), long_lock).allowed


def test_an_expired_window_starts_afresh(attempts):
    store, key = attempts
    store.take(key, T0, LIMIT)
    store.take(key, T0, LIMIT)
    turn = store.take(key, _at(seconds=600), LIMIT)
    assert turn.allowed and turn.failures == 1


def test_clear_forgets_the_count_and_a_later_lock_is_ignored(attempts):
    store, key = attempts
    for _ in range(3):
        store.take(key, T0, LIMIT)
    store.clear(key)
    store.lock(key, _at(seconds=300), T0, LIMIT)  # a failure racing a success: the success wins
    turn = store.take(key, _at(seconds=1), LIMIT)
    assert turn.allowed and turn.failures == 1


def test_usernames_are_counted_apart(attempts):
    store, key = attempts
    for _ in range(3):
        store.take(key, T0, LIMIT)
    assert store.take(key + "-other", T0, LIMIT).allowed


def test_concurrent_guesses_never_exceed_the_limit(attempts):
    store, key = attempts
    if isinstance(store, DynamoLoginAttempts):
        pytest.skip("moto applies conditional writes without an item lock (DynamoDB's are atomic "
                    "per item): the conditions themselves are tested one by one below")
    results, barrier = [], threading.Barrier(12)

    def guess():
        barrier.wait()
        results.append(store.take(key, T0, LIMIT).allowed)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == LIMIT.max_failures


def test_dynamo_a_fresh_window_is_written_once_and_counts_stop_at_the_limit(dynamo):
    # Given two requests both seeing no count: the second fresh window loses on its condition
    key = f"user-{next(_keys)}"
    assert dynamo._fresh(key, T0, LIMIT) == 1
    assert dynamo._fresh(key, T0, LIMIT) is None
    # And the counting ADD refuses past the limit, leaving the count as it was
    assert [dynamo._count(key, T0, LIMIT) for _ in range(3)] == [2, 3, None]
    from chalicelib.adapters.storage.models import LoginAttemptModel
    assert LoginAttemptModel.get(key, consistent_read=True).failures == 3
