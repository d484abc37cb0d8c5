"""Transient DynamoDB failures as the service's own retryable error.

PynamoDB wraps botocore's exceptions (``GetError``, ``PutError``, ``QueryError``,
``TransactWriteError``...): a throttle, a timeout or a 5xx left after botocore's own retries
becomes ``Unavailable`` ``storage_unavailable`` (503 with ``Retry-After``) at the adapter's edge,
so no PynamoDB or botocore exception reaches a use case or turns into a 500. A transaction that
failed this way wrote nothing (DynamoDB transactions are all or nothing).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException, TransactWriteError

from chalicelib.adapters import aws
from chalicelib.common.errors import HadirError, Unavailable

T = TypeVar("T", bound=type)
_TRANSIENT_REASONS = {"ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"}


def transient(exc: BaseException) -> bool:
    """Throttling and transient AWS failures, raw or wrapped by PynamoDB."""
    if isinstance(exc, HadirError):
        return False
    if isinstance(exc, TransactWriteError) and exc.cancellation_reasons:
        if {r.code for r in exc.cancellation_reasons if r is not None} & _TRANSIENT_REASONS:
            return True
    if isinstance(exc, PynamoDBException):
        cause = exc.cause
        return isinstance(cause, (ClientError, BotoCoreError)) and aws.transient(cause)
    return isinstance(exc, (ClientError, BotoCoreError)) and aws.transient(exc)


def condition_failed(exc: PynamoDBException) -> bool:
    """A failed condition (PynamoDB's ``cause_response_code`` breaks on a timeout: no response)."""
    cause = exc.cause
    return isinstance(cause, ClientError) and aws.error_code(cause) == "ConditionalCheckFailedException"


def unavailable(exc: BaseException) -> Unavailable:
    aws.log_aws_failure(getattr(exc, "cause", None) or exc, "storage_unavailable")  # type: ignore[arg-type]
    return Unavailable("The records cannot be reached right now; try again", code="storage_unavailable")


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            if transient(exc):
                raise unavailable(exc) from exc
            raise
        if hasattr(result, "__next__"):  # a lazy walk (the jobs' pages): translated as it is read
            return _walk(result)
        return result
    return call


def _walk(it: Any) -> Any:
    try:
        yield from it
    except Exception as exc:
        if transient(exc):
            raise unavailable(exc) from exc
        raise


def translate_failures(cls: T) -> T:
    """Every public method of ``cls`` (inherited ones too) with transient failures translated."""
    for name in dir(cls):
        attr = getattr(cls, name)
        if not name.startswith("_") and callable(attr) and not isinstance(attr, type):
            raw = cls.__dict__.get(name, attr)
            if isinstance(raw, (staticmethod, classmethod)):
                continue
            setattr(cls, name, _guarded(attr))
    return cls
