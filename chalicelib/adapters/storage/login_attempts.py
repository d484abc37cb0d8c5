"""Sign-in counts in DynamoDB (table ``login-attempts``): one item per normalised username.

Each sign-in is one conditional write, so concurrent guesses are counted exactly:
a fresh window (``failures = 1``) only when there is none, or it or its lock is over; else
``ADD failures 1`` only while the window is open, no lock is set and fewer than the limit were
counted; else the username is refused. A sign-in costs one or two writes, a success one more
(the delete). Times are epoch seconds; the TTL attribute lets DynamoDB
drop stale items (the logic never relies on it).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import DeleteError, DoesNotExist, GetError, PutError, PynamoDBException, UpdateError

from chalicelib.adapters.storage.failures import condition_failed
from chalicelib.adapters.aws import aws_failure
from chalicelib.adapters.storage.models import LoginAttemptModel as M
from chalicelib.adapters.storage.models import bind, share_client
from chalicelib.common.settings import Settings
from chalicelib.policy.login import LoginLimit, LoginTurn, refused_until

# A fresh window first (a sign-in with no count: one write), else count in the open one, else a
# fresh one again (the window ended between the two); then refused.
_TRIES = 3


class DynamoLoginAttempts:
    def __init__(self, settings: Settings, client: Callable[[], Any] | None = None):
        bind(settings)
        if client is not None:
            share_client(client())

    def take(self, key: str, now: datetime, limit: LoginLimit) -> LoginTurn:
        try:
            for i in range(_TRIES):
                failures = self._fresh(key, now, limit) if i % 2 == 0 else self._count(key, now, limit)
                if failures is not None:
                    return LoginTurn(True, failures)
            return self._refused(key, now, limit)
        except (PynamoDBException, ClientError, BotoCoreError) as exc:
            raise _failure(exc) from exc

    def _count(self, key: str, now: datetime, limit: LoginLimit) -> int | None:
        floor = now.timestamp() - limit.window_s
        try:
            item = M(key)
            item.update(actions=[M.failures.add(1), M.ttl.set(now + timedelta(seconds=limit.keep_s()))],
                        condition=(M.username.exists() & (M.window_start > floor)
                                   & (M.failures < limit.max_failures) & M.locked_until.does_not_exist()))
            return int(item.failures)
        except UpdateError as exc:
            if condition_failed(exc):
                return None
            raise

    def _fresh(self, key: str, now: datetime, limit: LoginLimit) -> int | None:
        ts = now.timestamp()
        try:
            M(key, failures=1, window_start=ts, ttl=now + timedelta(seconds=limit.keep_s())).save(
                condition=(M.username.does_not_exist() | (M.locked_until <= ts)
                           | (M.locked_until.does_not_exist() & (M.window_start <= ts - limit.window_s))))
            return 1
        except PutError as exc:
            if condition_failed(exc):
                return None
            raise

    def _refused(self, key: str, now: datetime, limit: LoginLimit) -> LoginTurn:
        try:
            item = M.get(key, consistent_read=True)
        except DoesNotExist:  # cleared meanwhile: refuse this one, the next one starts afresh
            return LoginTurn(False, 0, now + timedelta(seconds=1))
        locked = _time(item.locked_until)
        start = _time(item.window_start) or now
        return LoginTurn(False, int(item.failures or 0), refused_until(
            int(item.failures or 0), start, locked, now, limit))

    def lock(self, key: str, until: datetime, now: datetime, limit: LoginLimit) -> None:
        try:
            M(key).update(actions=[M.locked_until.set(until.timestamp()),
                                   M.ttl.set(until + timedelta(seconds=limit.window_s))],
                          condition=M.username.exists())
        except UpdateError as exc:
            if not condition_failed(exc):
                raise _failure(exc) from exc
        except (PynamoDBException, ClientError, BotoCoreError) as exc:
            raise _failure(exc) from exc

    def clear(self, key: str) -> None:
        try:
            M(key).delete()
        except (DeleteError, GetError, PynamoDBException, ClientError, BotoCoreError) as exc:
            raise _failure(exc) from exc


def _time(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(float(epoch), tz=timezone.utc)


def _failure(exc: Exception):
    cause = getattr(exc, "cause", None)
    return aws_failure(cause if isinstance(cause, (ClientError, BotoCoreError)) else exc,
                       "Sign-in is not possible right now", "login_store_failure")
