"""The local stack's moto, with DynamoDB's item-returning responses written as JSON directly.

moto 5.2's response serializer walks the AWS output shape member by member: for an item it visits
every member of every AttributeValue (S, N, B, SS, NS, BS, M, L, NULL, BOOL), about 2 ms per
item of the attendance table, so a month's recap of 7,000 employees (154,000 day items) spends
over five minutes in moto's serializer alone, a cost no DynamoDB has. For GetItem, BatchGetItem,
Query and Scan, whose results moto already holds as DynamoDB JSON, :func:`install` writes that JSON
as the body (top-level null members left out, as the serializer does); anything ``json`` cannot
write as is (binary attributes: raw bytes; timestamps) and every other operation keep moto's own
serializer. BatchGetItem without a projection is answered from the table's items directly (the
same keys, items, 16 MB cut and errors as moto's; without moto's per-item size walks, twice an
item). Only the local stack and the benchmarks load this (never the application).
"""
from __future__ import annotations

import json
from typing import Any

FAST = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
CONTENT_TYPE = "application/x-amz-json-1.0"  # DynamoDB's JSON protocol, version 1.0


def install() -> None:
    """Patch moto's DynamoDB result (idempotent: once per process)."""
    from moto.dynamodb.responses import DynamoResult
    if getattr(DynamoResult, "_hadir_fast_json", False):
        return
    original = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        result = self.result
        if str(context.operation_model.name) not in FAST or not isinstance(result, dict):
            return original(self, context)
        try:
            body = json.dumps({k: v for k, v in result.items() if v is not None}, separators=(",", ":"))
        except (TypeError, ValueError):  # bytes, datetimes: what moto's serializer knows how to write
            return original(self, context)
        return 200, {"Content-Type": CONTENT_TYPE}, body

    DynamoResult.execute_result = execute_result
    DynamoResult._hadir_fast_json = True
    _lean_batch_get()


BATCH_BYTES = 16 * 1024 * 1024  # a BatchGetItem response's limit: the rest is UnprocessedKeys


def _lean_batch_get() -> None:
    from moto.dynamodb.responses import DynamoHandler
    original = DynamoHandler.batch_get_item

    def batch_get_item(self: Any) -> Any:
        try:
            return _answer(self) or original(self)
        except TypeError:  # bytes in a key or an item: moto's own path knows them
            return original(self)

    def _answer(self: Any) -> Any:
        tables = self.body.get("RequestItems") or {}
        keys = [k for req in tables.values() for k in req.get("Keys", [])]
        plain = all(set(req) == {"Keys"} for req in tables.values())
        if not plain or len(keys) > 100 or len({json.dumps(k, sort_keys=True) for k in keys}) < len(keys):
            return None  # projections, and moto's own validation errors
        out: dict[str, Any] = {"Responses": {}, "UnprocessedKeys": {}, "ConsumedCapacity": []}
        size = 0
        for name, req in tables.items():
            found = out["Responses"][name] = []
            for key in req["Keys"]:
                item = self.dynamodb_backend.get_item(name, key)
                if item is None:
                    continue
                attrs = item.to_json()["Attributes"]
                size += len(json.dumps(attrs))
                if size > BATCH_BYTES:
                    out["UnprocessedKeys"].setdefault(name, {"Keys": []})["Keys"].append(key)
                else:
                    found.append(attrs)
            out["ConsumedCapacity"].append({"CapacityUnits": len(req["Keys"]), "TableName": name})
        return json.dumps(out, separators=(",", ":")), {"Content-Type": CONTENT_TYPE}

    DynamoHandler.batch_get_item = batch_get_item
