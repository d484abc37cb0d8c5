"""The local stack's moto, with DynamoDB's item-returning responses written as JSON directly.

moto 5.2's response serializer walks the AWS output shape member by member: for an item it visits
every member of every AttributeValue (S, N, B, SS, NS, BS, M, L, NULL, BOOL), about 2 ms per
item of the attendance table, so a month's recap of 7,000 employees (154,000 day items) spends
over five minutes in moto's serializer alone, a cost no DynamoDB has. For GetItem, BatchGetItem,
Query and Scan, whose results moto already holds as DynamoDB JSON, :func:`install` writes that JSON
as the body (top-level null members left out, as the serializer does); so for PutItem, UpdateItem
and DeleteItem (their Attributes and ConsumedCapacity: 3 ms a ping in moto's serializer), keeping
only their output shape's members; anything ``json`` cannot
write as is (binary attributes: raw bytes; timestamps) and every other operation keep moto's own
serializer. BatchGetItem without a projection is answered from the table's items directly (the
same keys, items, 16 MB cut and errors as moto's; without moto's per-item size walks, twice an
item; ``ConsistentRead`` too, as every moto read is). Only the local stack and the benchmarks
load this (never the application).

Per request, moto also parses a BatchGetItem's or BatchWriteItem's body member by member against
the input shape (a request of 100 keys: about 5 ms) although the JSON already is what the handler
reads: such a body with no binary attribute is taken with ``json.loads`` (binary: moto's parser,
which decodes base64);
it lists its own package directory on disk to route every request (listed once here); and it
runs a regular expression over every response body for an XML ``<RequestId>`` (a BatchGetItem's
JSON of 100 items: a few ms), run here only on bodies that hold one.

A Query on a table's own key (no index) makes moto sort EVERY item of the table (``Table.all_items``:
``sorted`` over DynamoType comparisons) before it keeps the partition asked for: 18 ms a Query on a
pings table of a few thousand items, growing with the table. Here such a Query sorts only its
partition (``self.items[hash_key]``: the same items, then moto's own range-key sort, filters, pages
and limits). And moto lists a response class's methods (``inspect.getmembers``) on every request:
listed once per class here.
"""
from __future__ import annotations

import json
import re
import threading
from typing import Any

from local import fast_moto_tx

FAST = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})  # results kept to their output shape's members
CONTENT_TYPE = "application/x-amz-json-1.0"  # DynamoDB's JSON protocol, version 1.0
PLAIN_PARAMS = frozenset({"BatchGetItem", "BatchWriteItem"})  # bodies json.loads reads as moto's parser does
BINARY = re.compile(rb'"BS?"\s*:')  # a binary attribute (B, BS) somewhere in a request


def install() -> None:
    """Patch moto's DynamoDB result (idempotent: once per process)."""
    from moto.dynamodb.responses import DynamoResult
    if getattr(DynamoResult, "_hadir_fast_json", False):
        return
    original = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        result, name = self.result, str(context.operation_model.name)
        if (name not in FAST and name not in WRITES) or not isinstance(result, dict):
            return original(self, context)
        members = context.operation_model.output_shape.members if name in WRITES else result
        try:
            body = json.dumps({k: v for k, v in result.items() if v is not None and k in members},
                              separators=(",", ":"))
        except (TypeError, ValueError):  # bytes, datetimes: what moto's serializer knows how to write
            return original(self, context)
        return 200, {"Content-Type": CONTENT_TYPE}, body

    DynamoResult.execute_result = execute_result
    DynamoResult._hadir_fast_json = True
    _lean_batch_get()
    _plain_batch_get_params()
    _modules_listed_once()
    _request_id_only_in_xml()
    _query_sorts_its_partition()
    _method_names_listed_once()
    fast_moto_tx.install()  # TransactWriteItems rolled back item by item, not by copying whole tables


def _plain_batch_get_params() -> None:
    from moto.dynamodb.responses import DynamoHandler
    original = DynamoHandler.parse_parameters

    def parse_parameters(self: Any, request: Any) -> None:
        if self._get_action() not in PLAIN_PARAMS or BINARY.search(request.data or b""):
            return original(self, request)
        self.params = json.loads(request.data or b"{}")

    DynamoHandler.parse_parameters = parse_parameters


def _modules_listed_once() -> None:
    from moto import backends
    listed = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: listed


def _request_id_only_in_xml() -> None:
    from moto.core.responses import BaseResponse
    original = BaseResponse._enrich_response

    def enrich(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        marker = b"<RequestId>" if isinstance(body, bytes) else "<RequestId>"
        if isinstance(body, (str, bytes)) and marker not in body:
            return original(headers, "")[0], body  # the headers as moto sets them, the body as it is
        return original(headers, body)

    BaseResponse._enrich_response = staticmethod(enrich)


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
        plain = all(set(req) <= {"Keys", "ConsistentRead"} for req in tables.values())  # moto reads are consistent
        if not plain or len(keys) > 100 or len({_key_of(k) for k in keys}) < len(keys):
            return None  # projections, and moto's own validation errors
        found = {name: [(key, item.to_json()["Attributes"]) for key in req["Keys"]
                        if (item := self.dynamodb_backend.get_item(name, key)) is not None]
                 for name, req in tables.items()}
        out: dict[str, Any] = {"Responses": {n: [a for _, a in f] for n, f in found.items()}, "UnprocessedKeys": {},
                               "ConsumedCapacity": [{"CapacityUnits": len(req["Keys"]), "TableName": name}
                                                    for name, req in tables.items()]}
        body = json.dumps(out, separators=(",", ":"))
        if len(body) > BATCH_BYTES:  # rare: measured item by item, the rest left unprocessed
            out["Responses"], out["UnprocessedKeys"] = _cut(found)
            body = json.dumps(out, separators=(",", ":"))
        return body, {"Content-Type": CONTENT_TYPE}

    DynamoHandler.batch_get_item = batch_get_item


def _key_of(key: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """A key as a hashable value (TypeError on a binary value: moto's own path takes it)."""
    return tuple(sorted((name, t, v if isinstance(v, str) else _no_bytes(v)) for name, av in key.items()
                        for t, v in av.items()))


def _no_bytes(v: Any) -> str:
    if isinstance(v, bytes):
        raise TypeError("binary key")
    return json.dumps(v, sort_keys=True)


def _cut(found: dict[str, list[tuple[Any, Any]]]) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """(responses, unprocessed keys) with at most 16 MB of items (by their JSON), in key order."""
    responses: dict[str, list[Any]] = {}
    unprocessed: dict[str, Any] = {}
    size = 0
    for name, pairs in found.items():
        kept = responses[name] = []
        for key, attrs in pairs:
            size += len(json.dumps(attrs))
            if size > BATCH_BYTES:
                unprocessed.setdefault(name, {"Keys": []})["Keys"].append(key)
            else:
                kept.append(attrs)
    return responses, unprocessed


_PARTITION = threading.local()  # (table, hash key) of the Query this request thread runs


def _query_sorts_its_partition() -> None:
    from moto.dynamodb.models.table import Table
    original_query, original_all = Table.query, Table.all_items

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        _PARTITION.of = (self, hash_key)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _PARTITION.of = None

    def all_items(self: Any) -> Any:
        of = getattr(_PARTITION, "of", None)
        if of is None or of[0] is not self:
            return original_all(self)
        part = self.items.get(of[1])
        if part is None:
            return []
        return list(part.values()) if self.range_key_attr else [part]

    Table.query, Table.all_items = query, all_items


def _method_names_listed_once() -> None:
    from moto.core import responses
    original = responses.method_names_from_class
    listed: dict[type, list[str]] = {}

    def method_names_from_class(clazz: Any) -> list[str]:
        names = listed.get(clazz)
        if names is None:
            names = listed[clazz] = original(clazz)
        return names

    responses.method_names_from_class = method_names_from_class
