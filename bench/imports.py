"""Benchmark: a Simpeg import of N rows (default 7,000) through the import job, under injected
Cognito throttling, the local stack's way (moto server on loopback; the queue drained through
the Chalice handler as local/stack.py does).

    .venv/bin/python -m bench.imports [--rows 7000] [--throttle-rate 0.05] [--batch-rows 100]

The file is uploaded with the presigned POST (HTTP to the moto server), started, and its steps
run until the job is done. Then the invariant is checked against the pool and the table: every
Cognito user has its employee record and every employee its user (``partial_state``: false).
The last line printed is one JSON object: rows, seconds, rows_per_second, retries,
failed_rows, partial_state, ...
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

from bench.recap import count_calls, load_average, start_moto, stage_env
from bench.simpeg import csv_bytes, rows as simpeg_rows


def _users(idp, pool_id: str) -> set[str]:
    pages = idp.get_paginator("list_users").paginate(UserPoolId=pool_id)
    return {u["Username"] for p in pages for u in p["Users"]  # people (the demo's admin, auditor aside)
            if any(a["Name"] == "custom:nip" for a in u.get("Attributes", []))}


def _employees(ddb, table: str) -> set[str]:
    pages = ddb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="nip")
    return {i["nip"]["S"] for p in pages for i in p["Items"]}


def run(n: int, rate: float, batch_rows: int, seed: int = 7, quiet: bool = False) -> dict:
    server, url = start_moto()
    stage_env(url)
    os.environ["HADIR_IMPORT_BATCH_ROWS"] = str(batch_rows)
    import boto3
    import requests

    from chalicelib import wiring
    from chalicelib.adapters import aws
    from chalicelib.common.resources import IMPORT_QUEUE
    from chalicelib.common.settings import get_settings, reset_settings
    from chalicelib.services import import_jobs
    from chalicelib.services.schemas import ImportIn
    from local.bootstrap import create_all
    from local.cognito_throttle import ThrottlingCognito, throttled_directory
    from local.queues import drain
    from local.seed import seed as seed_demo

    say = (lambda *_: None) if quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    region = os.environ["AWS_DEFAULT_REGION"]
    os.environ.update(create_all(lambda s: boto3.client(s, region_name=region, endpoint_url=url), "local",
                                 agency=os.environ["HADIR_AGENCY_ID"]))
    reset_settings()
    aws.reset_clients()
    settings = get_settings()
    seed_demo(wiring.get_services())  # the demo offices (and its few people)
    cognito = ThrottlingCognito(aws.client("cognito-idp", settings), rate=rate, seed=seed)  # the same calls refused each run
    wiring.configure(directory=throttled_directory(settings, cognito))
    svc = wiring.get_services()
    data = csv_bytes(simpeg_rows(n))
    say(f"{n} rows, {len(data)} bytes; Cognito admin calls throttled at {rate:.0%}")

    calls, spent = count_calls()
    load = load_average()
    t0 = time.perf_counter()
    job = import_jobs.create(svc, ImportIn(content_type="text/csv"), actor="bench")
    up = requests.post(job.upload.url, data=job.upload.fields, files={"file": ("simpeg.csv", data, "text/csv")},
                       timeout=120)
    assert up.status_code < 300, up.status_code
    import_jobs.start(svc, job.import_id)
    sqs = aws.client("sqs", settings)
    steps = step_failures = 0
    while True:
        handled, failed = drain(sqs, settings.queues[IMPORT_QUEUE.logical], IMPORT_QUEUE.handler, max_rounds=10)
        steps, step_failures = steps + handled, step_failures + failed
        status = import_jobs.status(svc, job.import_id, 0, 1)
        say(f"  {status.state}: {status.done + status.failed}/{status.total}  {time.perf_counter() - t0:.1f} s")
        if status.state in ("done", "failed") or not (handled or failed):
            break
    seconds = time.perf_counter() - t0
    users = _users(aws.client("cognito-idp", settings), settings.user_pool_id)
    employees = _employees(aws.client("dynamodb", settings), settings.tables["employees"])
    status = import_jobs.status(svc, job.import_id, 0, 1)
    wiring.reset()
    server.stop()
    return {"rows": status.total, "seconds": round(seconds, 2),
            "rows_per_second": round((status.done + status.failed) / seconds, 1),
            "state": status.state, "saved_rows": status.done, "failed_rows": status.failed,
            "retries": import_jobs.RETRIES["count"], "throttled_calls": cognito.throttled,
            "cognito_admin_calls": cognito.calls, "throttle_rate": rate, "batch_rows": batch_rows,
            "steps": steps, "step_failures_redelivered": step_failures,
            "partial_state": users != employees,
            "users_without_employee": len(users - employees), "employees_without_user": len(employees - users),
            "backoff": {"retries": settings.import_retries, "base_s": settings.import_backoff_base_s,
                        "cap_s": settings.import_backoff_cap_s},
            "aws_calls_by_operation": dict(calls.most_common()),
            "aws_seconds_by_operation": {k: round(v, 1) for k, v in spent.most_common()},
            "moto": "server, loopback", "load_average_before": load, "load_average_after": load_average(),
            "python": platform.python_version(), "cpus": os.cpu_count(),
            "cpu_affinity": sorted(os.sched_getaffinity(0))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=7000)
    ap.add_argument("--throttle-rate", type=float, default=0.05, help="share of Cognito admin calls refused")
    ap.add_argument("--batch-rows", type=int, default=100)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    out = run(args.rows, args.throttle_rate, args.batch_rows, quiet=args.quiet)
    print(json.dumps(out))
    return 0 if out["state"] == "done" and not out["partial_state"] else 1


if __name__ == "__main__":
    sys.exit(main())
