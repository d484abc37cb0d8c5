"""Server-side latency of one check-in (median, p95) with its breakdown: face, geo, storage.

Runs the real route (chalice.test.Client, so no client network) with the real face engine against a
moto server over loopback HTTP (real boto3/PynamoDB calls, KMS decrypt, TransactWrite); every
check-in follows its liveness challenge (front and two turns) with real posed photos
(tests/faces.py). Uploads and login are outside the measurement. Prints the figures, and JSON on the last line.

    .venv/bin/python bench/checkin.py [--n 30] [--warmup 3]
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.host import machine  # noqa: E402  (run as a script too)
FACES = ROOT.parent / "shared" / "faces" / "dev"
NIP = "199001152015032001"


def pct(xs, q):
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()

    import boto3
    import requests
    from moto.server import ThreadedMotoServer

    import logging
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    url = "http://%s:%d" % server.get_host_and_port()
    from local.stack import stage_env
    os.environ.update(stage_env(url, "2026-03-02T07:45:00+08:00"))
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    # the posed real photos answer left and right (tests/faces.py); an approved enrolment is what
    # every check-in but the first days' sees
    os.environ.update({"HADIR_LIVENESS_DIRECTIONS": "left,right", "HADIR_ENROLMENT_APPROVAL": "false"})
    from local.bootstrap import create_all
    os.environ.update(create_all(lambda s: boto3.client(s, endpoint_url=url), "local"))

    from chalice.test import Client

    import app as app_module
    from chalicelib import wiring as services
    from chalicelib.common.clock import FixedClock
    from chalicelib.face import get_engine
    from local.seed import PASSWORD, seed
    seed(services.get_services())
    from tests.faces import POSED_CHECKIN, POSED_ENROLMENT, following
    t = time.perf_counter()
    engine = get_engine()
    load_s = time.perf_counter() - t

    def steps(session):
        return [x["pose"] for x in session["challenge"]["steps"]]

    def upload(target, data):
        requests.post(target["url"], data={**target["fields"], "Content-Type": "image/jpeg"},
                      files={"file": ("p.jpg", data, "image/jpeg")}, timeout=10)

    from local.awscalls import AwsCalls
    results, counted = [], []
    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
        def call(method, path, body=None, headers=None):
            r = getattr(client.http, method)(path, headers={"Content-Type": "application/json", **(headers or {})},
                                             body=json.dumps(body) if body is not None else None)
            return r, (json.loads(r.body) if r.body else None)

        _, tok = call("post", "/auth/login", {"username": NIP, "password": PASSWORD})
        auth = {"Authorization": f"Bearer {tok['id_token']}"}
        _, s = call("post", "/me/enrollment/uploads", headers=auth)
        for target, data in zip(s["uploads"], following(steps(s), POSED_ENROLMENT)):
            upload(target, data)
        r, body = call("post", "/me/enrollment", {"session_id": s["session_id"], "consent": True}, auth)
        assert r.status_code == 201, body
        day = datetime(2026, 3, 2, 7, 45, tzinfo=timezone(timedelta(hours=8)))
        for i in range(args.warmup + args.n):
            d = day + timedelta(days=i)
            while d.weekday() >= 5:
                d += timedelta(days=1)
            day = d - timedelta(days=i)
            services.get_services().clock = FixedClock(d)
            _, s = call("post", "/checkins/uploads", headers=auth)
            for target, data in zip(s["uploads"], following(steps(s), POSED_CHECKIN)):
                upload(target, data)
            loc = {"lat": -8.67052 + i * 1e-6, "lon": 115.21263, "accuracy_m": 6,  # a new point each day
                   "captured_at": (d - timedelta(seconds=5)).isoformat(), "is_mock": False}
            with AwsCalls() as calls:
                t0 = time.perf_counter()
                r, body = call("post", "/checkins", {"session_id": s["session_id"], "type": "in", "location": loc}, auth)
                wall = (time.perf_counter() - t0) * 1000
            if i >= args.warmup and body.get("decision") == "accepted":
                counted.append(calls.by_operation)
            timing = dict(part.split(";dur=") for part in r.headers["Server-Timing"].split(", "))
            if i >= args.warmup:
                results.append({"wall": wall, **{k: float(v) for k, v in timing.items()},
                                "decision": body.get("decision"), "kms": float(timing.get("kms", 0)),
                                "flags": [x["code"] for x in body.get("reasons", []) if x.get("effect") == "flag"]})
    server.stop()

    def stats(key):
        xs = [r[key] for r in results]
        return {"median_ms": round(statistics.median(xs), 1), "p95_ms": round(pct(xs, 0.95), 1)}

    out = {"n": len(results), "decisions": sorted({r["decision"] for r in results}),
           "flags": sorted({f for r in results for f in r["flags"]}),
           "server_total": stats("wall"), "handler_total": stats("total"), "face": stats("face"),
           "geo": stats("geo"), "storage": stats("storage"), "upload_read": stats("upload_read"),
           "kms": stats("kms"),
           "model_version": engine.model_version, "engine_load_s": round(load_s, 2),
           "frames_per_checkin": 3,
           # the AWS calls of an accepted check-in (a botocore before-call hook: local/awscalls.py)
           "aws_calls_per_checkin": max((sum(c.values()) for c in counted), default=None),
           "aws_calls_by_operation": max(counted, key=lambda c: sum(c.values()), default={}),
           "machine": machine(),
           "aws": "moto server over loopback HTTP"}
    for k in ("server_total", "handler_total", "face", "geo", "storage", "upload_read", "kms"):
        print(f"{k:<14} median {out[k]['median_ms']:>7} ms   p95 {out[k]['p95_ms']:>7} ms")
    print(f"aws calls per accepted check-in: {out['aws_calls_per_checkin']} {out['aws_calls_by_operation']}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
