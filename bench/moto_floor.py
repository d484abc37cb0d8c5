"""What one AWS call costs on the local stand-in: the floor under every local throughput figure.

A moto server (the local stack's: ``local/fast_moto.py`` installed) in a process of its own on
loopback, one boto3 client in this process, ``--n`` calls of each operation a ping or a check-in
makes, one at a time. For each: the server process's CPU per call (utime+stime from /proc, every
thread), the client's CPU per call (``process_time``) and the wall time per call, medians of
``--rounds`` rounds. Batched operations are also given per item.

    .venv/bin/python -m bench.moto_floor [--n 300] [--rounds 3]

The last line of stdout is one JSON object: ``ops`` (operation -> server_cpu_ms, client_cpu_ms,
wall_ms, items per call), the machine and the load averages. bench/RESULTS-pings.md reads it.
"""
from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import statistics
import time
from typing import Any, Callable

from bench.host import machine


def serve(conn: Any) -> None:
    import logging

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from local import fast_moto
    fast_moto.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    conn.send("http://%s:%d" % server.get_host_and_port())
    conn.recv()
    server.stop()


def cpu_s(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ping_item(i: int) -> dict[str, Any]:
    return {"pk": {"S": f"E#{i}"}, "sk": {"S": "PING#2026-03-03T10:00:00"}, "lat": {"N": "-8.6705"},
            "lon": {"N": "115.2126"}, "acc": {"N": "12"}, "ttl": {"N": "1790000000"}}


def operations(ddb: Any, sqs: Any, queue: str) -> dict[str, tuple[Callable[[int], Any], int]]:
    """name -> (one call of it for round index i, items per call)."""
    state = lambda i: {"pk": {"S": f"E#{i}"}, "sk": {"S": "STATE#LAST"}}  # noqa: E731
    clock = itertools.count(1)  # every conditional update moves its item's time forward
    return {
        "GetItem": (lambda i: ddb.get_item(TableName="t", Key=state(i), ConsistentRead=True), 1),
        "PutItem": (lambda i: ddb.put_item(TableName="t", Item=ping_item(i)), 1),
        "UpdateItem_conditional": (lambda i: ddb.update_item(
            TableName="t", Key=state(i), UpdateExpression="SET last_at = :t, fix = :f",
            ConditionExpression="attribute_not_exists(last_at) OR last_at < :t",
            ExpressionAttributeValues={":t": {"N": str(next(clock))}, ":f": {"S": "x"}}), 1),
        "BatchGetItem_3": (lambda i: ddb.batch_get_item(RequestItems={"t": {"Keys": [
            state(i), state(i + 1), state(i + 2)], "ConsistentRead": True}}), 3),
        "BatchGetItem_50": (lambda i: ddb.batch_get_item(RequestItems={"t": {"Keys": [
            state(k) for k in range(i, i + 50)]}}), 50),
        "BatchWriteItem_25": (lambda i: ddb.batch_write_item(RequestItems={"t": [
            {"PutRequest": {"Item": ping_item(i * 25 + k)}} for k in range(25)]}), 25),
        "SQS_SendMessage": (lambda i: sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(ping_item(i))), 1),
    }


def measure(pid: int, call: Callable[[int], Any], n: int) -> dict[str, float]:
    s0, c0, t0 = cpu_s(pid), time.process_time(), time.perf_counter()
    for i in range(n):
        call(i)
    return {"server_cpu_ms": (cpu_s(pid) - s0) / n * 1000, "client_cpu_ms": (time.process_time() - c0) / n * 1000,
            "wall_ms": (time.perf_counter() - t0) / n * 1000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="calls of each operation per round")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    load_before = os.getloadavg()
    ctx = mp.get_context("spawn")
    mine, theirs = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(theirs,), daemon=True)
    proc.start()
    url = mine.recv()
    import boto3
    kw = dict(endpoint_url=url, region_name="ap-southeast-3", aws_access_key_id="bench", aws_secret_access_key="bench")
    ddb, sqs = boto3.client("dynamodb", **kw), boto3.client("sqs", **kw)
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}])
    queue = sqs.create_queue(QueueName="pings")["QueueUrl"]
    ops = operations(ddb, sqs, queue)
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in ops}
    for _ in range(args.rounds):
        for name, (call, _items) in ops.items():
            n = args.n if ops[name][1] < 25 else max(10, args.n // 10)
            rounds[name].append(measure(proc.pid, call, n))
    mine.send("stop")
    proc.join(10)
    out = {name: {k: round(statistics.median(r[k] for r in rs), 2) for k in rs[0]} | {"items_per_call": ops[name][1]}
           for name, rs in rounds.items()}
    for name, r in out.items():
        print(f"{name:24} server {r['server_cpu_ms']:6.2f} ms  client {r['client_cpu_ms']:6.2f} ms  wall {r['wall_ms']:6.2f} ms")
    print(json.dumps({"ops": out, "n": args.n, "rounds": args.rounds,
                      "machine": machine(),
                      "load_average": {"before": [round(x, 2) for x in load_before],
                                       "after": [round(x, 2) for x in os.getloadavg()]}}))


if __name__ == "__main__":
    main()
