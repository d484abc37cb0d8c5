"""The local stack's moto, with DynamoDB's item-returning responses written as JSON directly.

moto 5.2's response serializer walks the AWS output shape member by member: for an item it visits
every member of every AttributeValue (S, N, B, SS, NS, BS, M, L, NULL, BOOL), about 2 ms per
item of the attendance table, so a month's recap of 7,000 employees (154,000 day items) spends
over five minutes in moto's serializer alone, a cost no DynamoDB has. For GetItem, BatchGetItem,
Query and Scan, whose results moto already holds as DynamoDB JSON, :func:`install` writes that JSON
as the body (top-level null members left out, as the serializer does); anything ``json`` cannot
write as is (binary attributes: raw bytes; timestamps) and every other operation keep moto's own
serializer. Only the local stack and the benchmarks load this (never the application).
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
