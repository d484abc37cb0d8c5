"""Day records read by key in bulk (the monthly recap's read): BatchGetItem, 100 keys a request,
the items decoded straight from the response's DynamoDB JSON.

botocore walks a response item by item, attribute by attribute, against the output shape, and
PynamoDB then builds a model of each item; for a month of an agency's days (7,000 employees x 22
days) that is most of the client's time. Day items hold strings and numbers only (no binary
attribute, the one type botocore's parse would change: base64 to bytes), so while :func:`read`
is asking, a ``before-parse`` hook on the client takes the ``Responses`` out of the body with
``json.loads`` and hands them over as they came; botocore parses the rest (``UnprocessedKeys``,
errors) as usual. Unprocessed keys are resent after a growing pause.

The request goes the other way round: botocore validates and serializes the parameters member by
member too (about 6 ms for 100 keys, 9 s of a 7,000-employee month), although the keys are built
here from strings only. So botocore is handed the request with its first key alone, and a
``before-call`` hook sends the whole request as the body, written with ``json.dumps``.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Sequence

from chalicelib.policy.day import day_from_dict
from chalicelib.services.records import DayRecord

BATCH_GET, RETRIES = 100, 8  # DynamoDB's keys per BatchGetItem; attempts for a batch's keys
RAW = "HadirRawResponses"
_asking = threading.local()
_hooked: set[int] = set()


def _take_items(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    if not getattr(_asking, "on", False) or response_dict.get("status_code") != 200:
        return
    body = json.loads(response_dict["body"] or b"{}")
    customized_response_dict[RAW] = body.pop("Responses", {})
    response_dict["body"] = json.dumps(body).encode()


def _send_whole(params: dict[str, Any], **_: Any) -> None:
    body = getattr(_asking, "body", None)
    if body is not None:
        params["body"] = body


def _hook(client: Any) -> None:
    if id(client) not in _hooked:
        client.meta.events.register("before-parse.dynamodb.BatchGetItem", _take_items)
        client.meta.events.register("before-call.dynamodb.BatchGetItem", _send_whole)
        _hooked.add(id(client))


def _day(item: dict[str, Any]) -> DayRecord:
    """The record of a stored day item, built without validation (``model_construct``): every
    field is typed here, from an item the adapter itself wrote (a 154,000-item month spent a
    fifth of the client's time in pydantic re-validating each ``Day``)."""
    data = json.loads(item["data"]["S"]) if "data" in item else {}
    version = item.get("version", {}).get("N")
    name = data.get("name")
    return DayRecord.model_construct(nip=item["nip"]["S"], date=item["local_date"]["S"], day=day_from_dict(data),
                                     name=name if isinstance(name, str) else None,
                                     version=int(version) if version is not None else None)


def _ask(client: Any, request: dict[str, dict[str, list[Any]]]) -> dict[str, Any]:
    """BatchGetItem of ``request`` (one table's keys): botocore checks a stand-in of its first
    key, the body sent is ``request`` itself."""
    (table, spec), = request.items()
    _asking.on, _asking.body = True, json.dumps({"RequestItems": request}).encode()
    try:
        return client.batch_get_item(RequestItems={table: {"Keys": spec["Keys"][:1]}})
    finally:
        _asking.on, _asking.body = False, None


def read(client: Any, table: str, keys: Sequence[tuple[str, str]]) -> list[DayRecord]:
    """The day items of ``keys`` ((NIP, ISO date) pairs, distinct) that exist, in no order."""
    _hook(client)
    found: list[DayRecord] = []
    for at in range(0, len(keys), BATCH_GET):
        pending: dict[str, Any] = {table: {"Keys": [{"nip": {"S": n}, "sk": {"S": f"DAY#{d}"}}
                                                    for n, d in keys[at:at + BATCH_GET]]}}
        for attempt in range(RETRIES):
            if attempt:
                time.sleep(min(2.0, 0.05 * 2 ** attempt))
            out = _ask(client, pending)
            found.extend(_day(i) for i in out.get(RAW, {}).get(table, ()))
            if not (pending := out.get("UnprocessedKeys") or {}):
                break
        else:
            raise RuntimeError(f"BatchGetItem left keys unprocessed after {RETRIES} attempts")
    return found


def get_items(client: Any, pending: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One BatchGetItem of ``pending`` (a RequestItems map over any tables, at most 100 keys in
    all): the items found by table name, as DynamoDB JSON; unprocessed keys are asked again after a
    growing pause."""
    found: dict[str, list[dict[str, Any]]] = {}
    for attempt in range(RETRIES):
        if attempt:
            time.sleep(min(1.0, 0.02 * 2 ** attempt))
        out = client.batch_get_item(RequestItems=pending)
        for table, items in out.get("Responses", {}).items():
            found.setdefault(table, []).extend(items)
        if not (pending := out.get("UnprocessedKeys") or {}):
            return found
    raise RuntimeError(f"BatchGetItem left keys unprocessed after {RETRIES} attempts")
