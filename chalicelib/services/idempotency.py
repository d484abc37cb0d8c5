"""Idempotent requests: the first request with an ``Idempotency-Key`` runs, a retry with the same
key and body gets the stored result, the same key with another body is refused.

Powertools' idempotency utility with its DynamoDB persistence layer (the ``idempotency`` table)
when the composition root provides a DynamoDB client; an in-process table otherwise (in-memory
wiring), with the same answers.

Under faults (issue 14) a retry after a 503 is always answered: a request still in progress (or
left in progress by an attempt whose clean-up failed) is 503 ``request_in_progress`` with
``Retry-After``, and its in-progress record expires after at most ``HADIR_IDEMPOTENCY_IN_PROGRESS_S``
(at most API Gateway's 29 s: nothing answers a client later), so the retry then runs it; a request that ran but whose
result could not be stored still answers with its result (its write is single-use: a rerun cannot
write twice). A persistence failure is 503 ``idempotency_unavailable``.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from chalicelib.common.errors import InvalidInput, JsonObject, Unavailable
from chalicelib.common.logs import logger
from chalicelib.wiring import Services

RETRY_AFTER_S = 2
_memory: dict[tuple[int, str, str], tuple[str, JsonObject]] = {}  # (wiring, nip, key) -> result


def once(svc: Services, nip: str, key: str, body: JsonObject, run: Callable[[], JsonObject],
         lambda_context: Any = None) -> JsonObject:
    if svc.idempotency_client is None:
        return _once_in_memory((id(svc.records), nip, key), body, run)
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    persistence = DynamoDBPersistenceLayer(table_name=svc.settings.tables["idempotency"],
                                           boto3_client=svc.idempotency_client())
    config = IdempotencyConfig(event_key_jmespath="[nip, key]", payload_validation_jmespath="body",
                               expires_after_seconds=svc.settings.idempotency_ttl_s,
                               raise_on_no_idempotency_key=True)
    config.register_lambda_context(_Budget(lambda_context, svc.settings.idempotency_in_progress_s))  # in-progress records expire
    done: list[JsonObject] = []

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
    def guarded(request: JsonObject) -> JsonObject:
        done.append(run())
        return done[-1]

    request = {"nip": nip, "key": key, "body": body}
    try:
        return guarded(request=request)
    except IdempotencyValidationError as exc:
        raise _reused() from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise Unavailable("The same request is still being processed; retry shortly", code="request_in_progress",
                          details={"retry_after_s": RETRY_AFTER_S}) from exc
    except IdempotencyPersistenceLayerError as exc:
        if done:  # it ran (and wrote, once); only storing its result failed: answer it anyway
            _store_result(persistence, request, done[-1])
            return done[-1]
        raise Unavailable("The request could not be registered; retry shortly", code="idempotency_unavailable",
                          details={"retry_after_s": RETRY_AFTER_S}) from exc


class _Budget:
    """The Lambda context's remaining time, capped at ``cap_s`` (or that alone without one)."""

    def __init__(self, context: Any, cap_s: int):
        self._context, self._cap_ms = context, cap_s * 1000

    def get_remaining_time_in_millis(self) -> int:
        own = getattr(self._context, "get_remaining_time_in_millis", None)
        return int(min(own(), self._cap_ms)) if callable(own) else self._cap_ms


def _store_result(persistence: Any, request: JsonObject, result: JsonObject) -> None:
    """One more try at storing a result that ran (a retry then gets it back); if it fails too, the
    in-progress record expires and the session, already used, refuses a second write."""
    for _ in range(3):
        try:
            return persistence.save_success(data=request, result=result)
        except Exception as exc:  # noqa: BLE001 - best effort; the caller has its answer
            logger.warning("idempotent result not stored", extra={"error": type(exc).__name__})


def _reused() -> InvalidInput:
    return InvalidInput("This Idempotency-Key was used with a different request",
                        code="idempotency_key_reused")


def _once_in_memory(slot: tuple[int, str, str], body: JsonObject, run: Callable[[], JsonObject]) -> JsonObject:
    fingerprint = json.dumps(body, sort_keys=True)
    stored = _memory.get(slot)
    if stored is not None:
        if stored[0] != fingerprint:
            raise _reused()
        return stored[1]
    result = run()
    _memory[slot] = (fingerprint, result)
    return result
