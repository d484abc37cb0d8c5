"""Idempotent requests: the first request with an ``Idempotency-Key`` runs, a retry with the same
key and body gets the stored result, the same key with another body is refused.

Powertools' idempotency utility with its DynamoDB persistence layer (the ``idempotency`` table)
when the composition root provides a DynamoDB client; an in-process table otherwise (in-memory
wiring), with the same answers.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from chalicelib.common.errors import Conflict, InvalidInput, JsonObject
from chalicelib.wiring import Services

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
        IdempotencyValidationError,
    )

    persistence = DynamoDBPersistenceLayer(table_name=svc.settings.tables["idempotency"],
                                           boto3_client=svc.idempotency_client())
    config = IdempotencyConfig(event_key_jmespath="[nip, key]", payload_validation_jmespath="body",
                               expires_after_seconds=svc.settings.idempotency_ttl_s,
                               raise_on_no_idempotency_key=True)
    if hasattr(lambda_context, "get_remaining_time_in_millis"):
        config.register_lambda_context(lambda_context)  # in-progress records expire with the Lambda

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
    def guarded(request: JsonObject) -> JsonObject:
        return run()

    try:
        return guarded(request={"nip": nip, "key": key, "body": body})
    except IdempotencyValidationError as exc:
        raise _reused() from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise Conflict("The same request is still being processed", code="request_in_progress") from exc


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
