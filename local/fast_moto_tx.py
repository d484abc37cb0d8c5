"""The local stack's moto, with TransactWriteItems rolled back item by item.

moto 5.2's ``transact_write_items`` deep-copies every table a transaction names before applying it,
so that a failure can put the tables back: each transaction costs in proportion to the tables'
sizes, and a workload that writes one transaction per item (an import of 7,000 employees, every
check-in) is quadratic on moto, as no DynamoDB is. :func:`install` replaces it with the same steps
(the same checks in the same order, the same errors and cancellation reasons) that copy only the
items the transaction touches, just before it touches each, and put those back on a failure.
A table with a stream keeps moto's own path (its stream records are part of what is rolled back).
Only the local stack and the benchmarks load this (never the application).
"""
from __future__ import annotations

import copy
from typing import Any

OPS = frozenset({"ConditionCheck", "Put", "Delete", "Update"})


def install() -> None:
    """Patch moto's DynamoDB backend (idempotent: once per process)."""
    from moto.dynamodb.models import DynamoDBBackend
    if getattr(DynamoDBBackend, "_hadir_lean_tx", False):
        return
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        names = {op.get("TableName") for item in transact_items for op in item.values() if isinstance(op, dict)}
        if any(self.tables[n].stream_shard is not None for n in names if n in self.tables):
            return original(self, transact_items)
        return _transact(self, transact_items)

    DynamoDBBackend.transact_write_items = transact_write_items
    DynamoDBBackend._hadir_lean_tx = True
    DynamoDBBackend._hadir_moto_transact_write_items = original  # the test compares the two


class _Undo:
    """The items a transaction touched, as they were before it touched them."""

    def __init__(self, backend: Any):
        self._backend, self._before = backend, []

    def note(self, table_name: str, key: dict[str, Any], current: Any) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType
        table = self._backend.get_table(table_name)
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr is not None else None
        self._before.append((table, hash_value, range_value, copy.deepcopy(current)))

    def restore(self) -> None:
        for table, hash_value, range_value, old in reversed(self._before):
            bucket, at = (table.items[hash_value], range_value) if range_value is not None else (table.items, hash_value)
            if old is None:
                bucket.pop(at, None)
            else:
                bucket[at] = old


def _transact(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's ``transact_write_items``, its whole-table copies replaced by an :class:`_Undo`."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
    )
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo, targets, errors = _Undo(backend), set(), []
    for item in transact_items:
        try:
            errors.append(_one(backend, item, undo, targets))
        except (MultipleTransactionsException, MockValidationException):
            undo.restore()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), getattr(e, "_hadir_old", None)))
        except Exception as e:  # noqa: BLE001 - as moto: any other failure is a cancellation reason
            errors.append((type(e).__name__, str(e), getattr(e, "_hadir_old", None)))
    if any(code is not None for code, _, _ in errors):
        undo.restore()
        raise TransactionCanceledException(errors)


def _one(backend: Any, item: dict[str, Any], undo: _Undo, targets: set) -> tuple[None, None, None]:
    """One of the transaction's operations, checked and applied as moto does."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MultipleTransactionsException,
        TransactWriteSingleOpException,
    )
    if len(list(item.keys())) > 1:
        raise TransactWriteSingleOpException
    op_type, op = next(iter(item.items()))
    if op_type not in OPS:
        raise ValueError("Unsupported transaction operation")
    table_name = op["TableName"]
    cond, names, values = op.get("ConditionExpression"), op.get("ExpressionAttributeNames"), \
        op.get("ExpressionAttributeValues")
    if op_type == "Put":
        table = backend.get_table(table_name)
        key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = op["Item"][table.range_key_attr]
    else:
        key = op["Key"]
    target = (str(table_name), str(dict(sorted(key.items()))))
    if target in targets:
        raise MultipleTransactionsException()
    targets.add(target)
    current = backend.get_item(table_name, key)
    if cond is not None and not get_filter_expression(cond, names, values).expr(current):
        old = current.to_json()["Attributes"] if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" \
            and current else None
        failed = ConditionalCheckFailed(item=old)
        failed._hadir_old = old
        raise failed
    if op_type == "ConditionCheck":
        return None, None, None
    undo.note(table_name, key, current)
    expr = {"condition_expression": cond, "expression_attribute_names": names, "expression_attribute_values": values}
    if op_type == "Put":
        backend.put_item(table_name, op["Item"], **expr)
    elif op_type == "Delete":
        backend.delete_item(table_name, key, **expr)
    else:
        backend.update_item(table_name, key, update_expression=op["UpdateExpression"], **expr)
    return None, None, None
