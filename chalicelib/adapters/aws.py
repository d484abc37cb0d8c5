"""The one place AWS clients are created: lazily, once per process, from the settings."""
from __future__ import annotations

import threading
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.common.errors import HadirError, Internal, Unavailable
from chalicelib.common.logs import logger
from chalicelib.common.settings import Settings

_lock = threading.Lock()
_clients: dict[tuple[str, str | None, str], Any] = {}
_sessions: dict[tuple[str | None, str], boto3.session.Session] = {}  # one per endpoint: shared loaders
_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=10)


def client(service: str, s: Settings) -> Any:
    """The process's shared client for ``service`` at the settings' region and endpoint."""
    key = (service, s.aws_endpoint_url, s.region)
    c = _clients.get(key)
    if c is None:
        with _lock:
            c = _clients.get(key)
            if c is None:
                kwargs: dict[str, Any] = {"region_name": s.region, "config": _s3_config(service)}
                if s.aws_endpoint_url:
                    kwargs["endpoint_url"] = s.aws_endpoint_url
                session = _sessions.get((s.aws_endpoint_url, s.region))
                if session is None:  # not setdefault: a Session costs ~0.1 s of a cold start to build
                    session = _sessions[(s.aws_endpoint_url, s.region)] = boto3.session.Session()
                c = session.client(service, **kwargs)
                _clients[key] = c
    return c


def _s3_config(service: str) -> Config:
    if service == "s3":
        return _CONFIG.merge(Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    if service == "lambda":  # a synchronous import runs long; never invoke it twice by a retry
        return _CONFIG.merge(Config(read_timeout=120, retries={"total_max_attempts": 1}))
    return _CONFIG


def reset_clients() -> None:
    """Forget every client (tests, or after the settings changed)."""
    with _lock:
        _clients.clear()
        _sessions.clear()


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError ('' otherwise)."""
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


_RETRYABLE = {"Throttling", "ThrottlingException", "TooManyRequestsException", "SlowDown",
              "RequestTimeout", "ServiceUnavailable", "InternalError", "InternalFailure",
              "RequestLimitExceeded", "LimitExceededException",
              # DynamoDB, KMS and SNS spell theirs differently (issue 14: fault injection)
              "ProvisionedThroughputExceededException", "InternalServerError",
              "ServiceUnavailableException", "KMSInternalException", "Throttled",
              "ThrottledException", "TransactionInProgressException"}


def transient(exc: BaseException) -> bool:
    """A failure worth retrying later (throttling, a timeout or no connection, a 5xx), once
    botocore's own retries are spent: the service answers 503 with ``Retry-After``."""
    if isinstance(exc, BotoCoreError):
        return True
    if not isinstance(exc, ClientError):
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(exc) in _RETRYABLE or status >= 500


def aws_failure(exc: Exception, message: str, code: str) -> HadirError:
    """An AWS failure as the service's own error: retryable ones (throttling, 5xx, no connection)
    are Unavailable, the rest (access denied, missing resource) Internal misconfiguration.
    Shared by the AWS adapters so no botocore exception reaches a use case. The AWS error code
    is logged here, server-side; the client sees Hadir's ``code`` only."""
    log_aws_failure(exc, code)
    if transient(exc):
        return Unavailable(message, code=code)
    return Internal(message, code=code)


def log_aws_failure(exc: Exception, code: str) -> str:
    """Log an AWS failure's error code (or botocore's exception class) next to Hadir's ``code``,
    for operators; what a client sees names neither. Returns the AWS code."""
    aws_code = error_code(exc) or type(exc).__name__
    logger.warning("aws call failed", extra={"code": code, "aws_error": aws_code})
    return aws_code


def provider(service: str, settings: Settings) -> Callable[[], Any]:
    """A zero-argument getter of the shared client, for adapters that create it on first use."""
    return lambda: client(service, settings)
