"""Fault injection for the local stack and the load benchmark; production never loads it
(chalicelib never imports ``local``: tests/bench/test_load_bench.py checks).

A botocore ``before-call`` handler on every client made in this process (PynamoDB's own too:
``botocore.session.Session.create_client`` is wrapped once installed) that, at ``rate`` (seeded),
fails a DynamoDB, S3, KMS or SNS call before it is sent, the way a call fails once botocore's own
retries are spent: throttling (``ProvisionedThroughputExceededException``, ``ThrottlingException``,
``SlowDown``, ``Throttled``), a timeout (``ReadTimeoutError``, ``ConnectTimeoutError``) or a 5xx
(``InternalServerError``, ``ServiceUnavailable``). Nothing reaches the service, so a faulted call
changed nothing. ``operations`` narrows it to ``service:Operation`` names (``dynamodb:TransactWriteItems``).

Enabled in the local stack by ``HADIR_LOCAL_FAULT_RATE`` (and ``HADIR_LOCAL_FAULT_SEED``,
``HADIR_LOCAL_FAULT_OPS``, ``HADIR_LOCAL_FAULT_LOG``: the prefix of the files, one per process,
the counts are written to).
"""
from __future__ import annotations

import json
import os
import random
import threading
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

SERVICES = ("dynamodb", "s3", "kms", "sns")
_ID = "hadir-local-faults"
# per service: (AWS error code, HTTP status) for throttling and for a 5xx
_THROTTLE = {"dynamodb": ("ProvisionedThroughputExceededException", 400), "s3": ("SlowDown", 503),
             "kms": ("ThrottlingException", 400), "sns": ("Throttled", 400)}
_SERVER = {"dynamodb": ("InternalServerError", 500), "s3": ("ServiceUnavailable", 503),
           "kms": ("KMSInternalException", 500), "sns": ("InternalError", 500)}
KINDS = ("throttle", "read_timeout", "connect_timeout", "server_error")


class Faults:
    """Fail calls at ``rate`` (0..1), chosen by a ``seed``ed generator; ``counts`` by kind and
    operation. ``install()`` hooks this process's clients; ``uninstall()`` undoes it."""

    def __init__(self, rate: float, seed: int = 0, operations: set[str] | None = None,
                 log_path: str | None = None):
        self.rate, self.operations, self.log_path = rate, operations, log_path
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.calls = 0
        self._original: Any = None

    def _pick(self, op: str) -> str | None:
        with self._lock:
            self.calls += 1
            if (self.operations is not None and op not in self.operations) or self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(KINDS)
            self.counts[kind] += 1
            self.counts[f"{kind}:{op}"] += 1
            self._write()
            return kind

    def _write(self) -> None:
        if self.log_path:
            path = f"{self.log_path}.{os.getpid()}.json"  # one per process (the API's, the jobs')
            with open(path + ".tmp", "w") as f:
                json.dump({"calls": self.calls, "counts": dict(self.counts)}, f)
            os.replace(path + ".tmp", path)

    def before_call(self, model: Any, params: Any = None, **_: Any) -> None:
        service = model.service_model.service_name
        if service not in SERVICES:
            return None
        kind = self._pick(f"{service}:{model.name}")
        if kind is None:
            return None
        url = f"https://{service}.local"
        if kind == "read_timeout":
            raise ReadTimeoutError(endpoint_url=url)
        if kind == "connect_timeout":
            raise ConnectTimeoutError(endpoint_url=url)
        code, status = (_THROTTLE if kind == "throttle" else _SERVER)[service]
        raise ClientError({"Error": {"Code": code, "Message": f"injected {kind}"},
                           "ResponseMetadata": {"HTTPStatusCode": status}}, model.name)

    def hook(self, client: Any) -> Any:
        client.meta.events.register("before-call.*.*", self.before_call, unique_id=_ID)
        return client

    def install(self) -> "Faults":
        import botocore.session

        from chalicelib.adapters import aws
        for c in list(aws._clients.values()):
            self.hook(c)
        original = self._original = botocore.session.Session.create_client
        faults = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            return faults.hook(original(session, *args, **kwargs))

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        _forget_model_connections()  # PynamoDB's models make theirs again, through create_client
        return self

    def uninstall(self) -> None:
        import botocore.session

        from chalicelib.adapters import aws
        if self._original is not None:
            botocore.session.Session.create_client = self._original  # type: ignore[method-assign]
            self._original = None
        for c in list(aws._clients.values()):
            c.meta.events.unregister("before-call.*.*", unique_id=_ID)
        _forget_model_connections()

    def __enter__(self) -> "Faults":
        return self.install()

    def __exit__(self, *exc: Any) -> None:
        self.uninstall()


def _forget_model_connections() -> None:
    from chalicelib.adapters.storage import models
    for model in [*models.MODELS.values(), *(m for _, m in models.SHARED_TABLE_MODELS)]:
        model._connection = None


def from_env(env: dict[str, str] | os._Environ = os.environ) -> Faults | None:
    """The faults ``HADIR_LOCAL_FAULT_*`` ask for, None when the rate is unset or 0."""
    rate = float(env.get("HADIR_LOCAL_FAULT_RATE") or 0)
    if rate <= 0:
        return None
    ops = {o.strip() for o in env.get("HADIR_LOCAL_FAULT_OPS", "").split(",") if o.strip()} or None
    return Faults(rate, int(env.get("HADIR_LOCAL_FAULT_SEED") or 0), ops, env.get("HADIR_LOCAL_FAULT_LOG") or None)


def install_from_env() -> Faults | None:
    """Install the faults the environment asks for (the local stack's processes call this)."""
    faults = from_env()
    return faults.install() if faults else None
