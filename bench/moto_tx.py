"""Benchmark: one TransactWriteItems on moto (in process) as its tables fill, moto's own path
(whole-table deep copies) against local/fast_moto_tx.py's (the touched items only).

    .venv/bin/python -m bench.moto_tx [--sizes 0,1000,7000] [--n 30]

Each transaction is the import's employee write: a Put of a new item in one table and a Put of an
audit item in another, each conditioned on not existing. The last line printed is JSON:
median milliseconds per transaction by mode and table size.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from bench.recap import load_average


def _table(c, name: str) -> None:
    c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                         {"AttributeName": "sk", "AttributeType": "S"}])


def _item(pk: str, sk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}, "name": {"S": "Ni Made Ayu " + sk}, "unit": {"S": "Dinas Kominfo"},
            "office_ids": {"L": [{"S": "kantor-bupati"}]}, "n": {"N": "1"}}


def measure(size: int, n: int, lean: bool) -> float:
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import DynamoDBBackend
    from local import fast_moto_tx
    fast_moto_tx.install()
    chosen = DynamoDBBackend.transact_write_items if lean else DynamoDBBackend._hadir_moto_transact_write_items
    patched, DynamoDBBackend.transact_write_items = DynamoDBBackend.transact_write_items, chosen
    try:
        with mock_aws():
            c = boto3.client("dynamodb", region_name="ap-southeast-3", aws_access_key_id="b", aws_secret_access_key="b")
            for name in ("employees", "audit"):
                _table(c, name)
                for i in range(size):
                    c.put_item(TableName=name, Item=_item(f"e{i}", "x"))
            cond = {"ConditionExpression": "attribute_not_exists(pk)"}
            took = []
            for i in range(n):
                t0 = time.perf_counter()
                c.transact_write_items(TransactItems=[
                    {"Put": {"TableName": "employees", "Item": _item(f"new{i}", "x"), **cond}},
                    {"Put": {"TableName": "audit", "Item": _item(f"new{i}", "a"), **cond}}])
                took.append((time.perf_counter() - t0) * 1000)
            return round(statistics.median(took), 2)
    finally:
        DynamoDBBackend.transact_write_items = patched


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="0,1000,7000")
    ap.add_argument("--n", type=int, default=30)
    args = ap.parse_args()
    load = load_average()
    out: dict = {"n": args.n, "median_ms": {}, "load_average_before": load, "cpus": os.cpu_count()}
    for size in [int(s) for s in args.sizes.split(",")]:
        out["median_ms"][str(size)] = {mode: measure(size, args.n, mode == "lean") for mode in ("moto", "lean")}
        print(f"{size:>6} items a table: moto {out['median_ms'][str(size)]['moto']:>8} ms  "
              f"lean {out['median_ms'][str(size)]['lean']:>6} ms", file=sys.stderr)
    out["load_average_after"] = load_average()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
