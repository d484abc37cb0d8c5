"""Fault injection for Cognito (tests and bench/imports.py only; production never loads it): a
wrapper around a boto3 ``cognito-idp`` client whose admin calls fail with Cognito's own
``TooManyRequestsException`` at a rate (seeded), or for a burst after so many calls, before the
call reaches the pool. The adapter translates it like a real throttle (503 kind, retryable)."""
from __future__ import annotations

import random
import threading
from typing import Any

from botocore.exceptions import ClientError


def throttle_error(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"},
                        "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)


class ThrottlingCognito:
    """``rate``: the share of admin calls refused; ``burst_after``/``burst``: after that many admin
    calls, the next ``burst`` are refused (a throttle mid-way); ``throttled`` counts refusals."""

    def __init__(self, client: Any, rate: float = 0.0, seed: int = 0, burst_after: int | None = None,
                 burst: int = 0):
        self._client, self.rate, self._rng = client, rate, random.Random(seed)
        self.burst_after, self.burst = burst_after, burst
        self.calls = self.throttled = 0
        self._lock = threading.Lock()

    def _refuse(self) -> bool:
        with self._lock:
            self.calls += 1
            if self.burst_after is not None and self.burst_after < self.calls <= self.burst_after + self.burst:
                refuse = True
            else:
                refuse = self._rng.random() < self.rate
            self.throttled += refuse
            return refuse

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not (name.startswith("admin_") and callable(attr)):
            return attr

        def call(**kwargs: Any) -> Any:
            if self._refuse():
                raise throttle_error(name)
            return attr(**kwargs)
        return call


def throttled_directory(settings: Any, cognito: ThrottlingCognito) -> Any:
    """The application's CognitoDirectory over the throttling client."""
    from chalicelib.adapters.auth import CognitoDirectory
    return CognitoDirectory(lambda: cognito, settings.user_pool_id, settings.user_pool_client_id,
                            settings.agency_id)
