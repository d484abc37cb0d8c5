"""Load and faults on the local stack (issue 14): N virtual employees check in concurrently over
HTTP with real uploads while throttling, timeouts and 5xx are injected into the API's DynamoDB,
S3, KMS and SNS calls (local/faults.py); then the invariants are checked against the tables.

The stack is started the local stack's way (local/stack.py's ``Stack``: a moto server on
loopback, the resources, the demo data, ``chalice local`` with ``--fault-rate``). The employees
(and ``--absent`` more who never check in) are imported and enrolled directly, untimed. Each
virtual employee opens a check-in session, uploads its frames (presigned POST to moto S3, real
posed photos), and posts the check-in with an ``Idempotency-Key``, retrying a 503 after its
``Retry-After``; ``--retry-share`` of them send the same request again once answered. Afterwards:
exactly one record per logical check-in (none lost, none duplicated), no half-written day, every
client got its decision or a 503 with ``Retry-After``, every retry after a 503 succeeded, no 5xx
but 503. Then the absence job runs under the same faults through its handler until a run
completes (a failed run is retried, as Lambda retries), and on until a second completes or
``--job-attempts`` runs are spent: every run's notices counted, each exactly once, after one run
completed (``runs_after_first_completion`` says how many runs followed it).

    .venv/bin/python bench/load.py [--employees 300] [--fault-rate 0.05] [--seed 7] [--max-seconds 900]

The last stdout line is one JSON object; exit status 1 when an invariant is broken.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import pathlib
import random
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.host import machine  # noqa: E402  (run as a script too)
NOW = "2026-03-03T07:45:00+08:00"  # a Tuesday, 07:45 in Denpasar (WITA): inside the check-in window
DATE = "2026-03-03"
JOB_NOW = "2026-03-03T11:00:00+08:00"  # the window closed: the absence job marks and tells
OFFICE = {"office_id": "kantor-denpasar", "lat": -8.67052, "lon": 115.21263}
PER_SUPERVISOR = 25


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return round(xs[lo] + (xs[hi] - xs[lo]) * (k - lo), 1)


def nip_of(i: int, gender: int = 2) -> str:
    """A valid NIP: born 1975-1983, appointed 2005, sequence 001-999 (unique for i < 3000)."""
    born = date(1975, 1, 1) + timedelta(days=i % 3000)
    return f"{born:%Y%m%d}2005{1 + i % 12:02d}{gender}{1 + i % 999:03d}"


# --- the stack and the people ------------------------------------------------------------------
def start_stack(args: argparse.Namespace, fault_log: str) -> Any:
    from local.stack import Stack
    ns = argparse.Namespace(moto_port=free_port(), api_port=free_port(), control_port=free_port(), web_port=0,
                            now=NOW, tick=3600.0, no_seed=False, verbose=False,
                            fault_rate=args.fault_rate, fault_seed=args.seed, app_log=args.app_log)
    stack = Stack(ns)
    stack.bootstrap(stack.start_moto())
    overrides = {"HADIR_LIVENESS_DIRECTIONS": "left,right", "HADIR_ENROLMENT_APPROVAL": "false",
                 "POWERTOOLS_LOG_LEVEL": "ERROR", "HADIR_LOCAL_FAULT_LOG": fault_log,
                 **({"HADIR_IDEMPOTENCY_IN_PROGRESS_S": str(args.in_progress_s)} if args.in_progress_s is not None else {})}
    stack.env.update(overrides)
    os.environ.update(overrides)
    from chalicelib import wiring
    from chalicelib.adapters import aws
    from chalicelib.common.settings import reset_settings
    reset_settings(); aws.reset_clients(); wiring.reset()
    stack.seed()
    return stack


def seed_people(n: int, absent: int, seed: int) -> dict[str, Any]:
    """``n`` employees who check in and ``absent`` who do not, in kantor-denpasar, a supervisor
    (with an e-mail) per ``PER_SUPERVISOR``; each enrolled with one template (the posed photos)
    sealed for them, and signed in."""
    from chalicelib.face import liveness
    from chalicelib.services import admin, sessions
    from chalicelib.wiring import get_services
    from local.seed import PASSWORD, SEED_ACTOR
    from tests.faces import POSED_ENROLMENT, following
    svc = get_services()
    total = n + absent
    sups = [nip_of(5000 + k, 1) for k in range((total + PER_SUPERVISOR - 1) // PER_SUPERVISOR)]
    rows = [{"nip": s, "name": f"Kepala {k}", "unit": f"Unit Beban {k}", "office_ids": [OFFICE["office_id"]],
             "roles": ["employee", "supervisor"], "email": f"kepala{k}@denpasar.example.go.id", "password": PASSWORD}
            for k, s in enumerate(sups)]
    staff = [nip_of(i) for i in range(total)]
    rows += [{"nip": nip, "name": f"Pegawai {i}", "unit": f"Unit Beban {i // PER_SUPERVISOR}",
              "office_ids": [OFFICE["office_id"]], "supervisor_nip": sups[i // PER_SUPERVISOR], "password": PASSWORD}
             for i, nip in enumerate(staff)]
    result = admin.import_employees(svc, rows, actor=SEED_ACTOR.username)
    if result.failed:
        raise RuntimeError(f"import failed: {[r for r in result.model_dump()['rows'] if not r.get('ok', True)][:3]}")
    steps = liveness.enrolment_challenge()
    enrolled = svc.face_engine().enrol(following(steps, POSED_ENROLMENT), steps, svc.liveness)
    template = enrolled.template.to_dict()
    tokens = {}
    for nip in staff:
        sess = sessions.open_session(svc, nip, sessions.ENROLMENT, 900, 3)
        sealed = svc.vault.seal(nip, template).model_copy(update={"model_version": enrolled.template.model_version})
        svc.records.enrol(nip, sealed, sess.session_id, svc.now_iso(),
                          consent_notice=svc.settings.consent_notice_version, device_id=None, pending=False)
        tokens[nip] = svc.directory.login(nip, PASSWORD)["id_token"]
    rng = random.Random(seed)
    absentees = set(rng.sample(staff, absent))
    return {"tokens": tokens, "checking_in": [s for s in staff if s not in absentees],
            "absent": sorted(absentees), "supervisors": sups,
            "supervisor_of": {nip: sups[i // PER_SUPERVISOR] for i, nip in enumerate(staff)}}


# --- the virtual employees ---------------------------------------------------------------------
@dataclass
class Budget:
    max_requests: int
    deadline: float
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bool:
        with self.lock:
            if self.sent >= self.max_requests or time.monotonic() > self.deadline:
                return False
            self.sent += 1
            return True


@dataclass
class Outcome:
    nip: str
    retrier: bool
    statuses: list[int] = field(default_factory=list)
    latencies: list[tuple[str, float]] = field(default_factory=list)
    codes_503: list[str] = field(default_factory=list)
    missing_retry_after: int = 0
    other_5xx: list[tuple[int, str]] = field(default_factory=list)
    decision: str | None = None
    checkin_id: str | None = None
    last: str = "none"  # decision | retryable_503 | unexpected:<status> | budget
    got_503: bool = False
    repeat_same: bool | None = None


class Employee:
    def __init__(self, api: str, nip: str, token: str, rng: random.Random, retrier: bool, budget: Budget):
        import requests
        self.http = requests.Session()
        self.api, self.nip, self.rng, self.budget = api, nip, rng, budget
        self.auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.out = Outcome(nip, retrier)

    def _call(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        if not self.budget.take():
            return None
        t0 = time.perf_counter()
        r = self.http.post(self.api + path, data=json.dumps(body) if body is not None else None,
                           headers={**self.auth, **(headers or {})}, timeout=120)
        self.out.latencies.append((path, (time.perf_counter() - t0) * 1000))
        self.out.statuses.append(r.status_code)
        if r.status_code >= 500:
            code = (r.json().get("error") or {}).get("code", "") if r.content else ""
            if r.status_code == 503:
                self.out.codes_503.append(code)
                self.out.got_503 = True
                if not r.headers.get("Retry-After", "").isdigit():
                    self.out.missing_retry_after += 1
            else:
                self.out.other_5xx.append((r.status_code, code))
        return r

    def _wait(self, r: Any) -> None:
        time.sleep(min(float(r.headers.get("Retry-After") or 1), 5) * (0.5 + self.rng.random()))

    def _until_answered(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        while True:
            r = self._call(path, body, headers)
            if r is None:
                self.out.last = "budget" if self.out.last == "none" else self.out.last
                return None
            if r.status_code != 503:
                return r
            self.out.last = "retryable_503"
            self._wait(r)

    def run(self) -> Outcome:
        from tests.faces import POSED_CHECKIN, following
        s = self._until_answered("/checkins/uploads")
        if s is None or s.status_code != 201:
            self.out.last = self.out.last if s is None else f"unexpected:{s.status_code}"
            return self.out
        session = s.json()
        poses = [x["pose"] for x in session["challenge"]["steps"]]
        for target, data in zip(session["uploads"], following(poses, POSED_CHECKIN)):
            self.http.post(target["url"], data={**target["fields"], "Content-Type": "image/jpeg"},
                           files={"file": ("p.jpg", data, "image/jpeg")}, timeout=60).raise_for_status()
        loc = {"lat": OFFICE["lat"] + self.rng.uniform(-1e-4, 1e-4), "lon": OFFICE["lon"] + self.rng.uniform(-1e-4, 1e-4),
               "accuracy_m": 6, "captured_at": "2026-03-03T07:44:55+08:00", "is_mock": False}
        body, key = {"session_id": session["session_id"], "type": "in", "location": loc}, {"Idempotency-Key": uuid.uuid4().hex}
        r = self._until_answered("/checkins", body, key)
        if r is None:
            return self.out
        if r.status_code not in (201, 422) or "decision" not in r.json():
            self.out.last = f"unexpected:{r.status_code}:{(r.json().get('error') or {}).get('code')}"
            return self.out
        self.out.last, self.out.decision, self.out.checkin_id = "decision", r.json()["decision"], r.json().get("checkin_id")
        if self.out.retrier:  # the same request again (a client that did not see the answer)
            again = self._until_answered("/checkins", body, key)
            self.out.repeat_same = again is not None and again.status_code == r.status_code \
                and again.json().get("checkin_id") == self.out.checkin_id
        return self.out


def drive(api: str, people: dict[str, Any], args: argparse.Namespace) -> tuple[list[Outcome], float]:
    rng = random.Random(args.seed)
    budget = Budget(args.max_requests or 12 * args.employees, time.monotonic() + args.max_seconds)
    employees = [Employee(api, nip, people["tokens"][nip], random.Random(rng.random()), rng.random() < args.retry_share, budget)
                 for nip in people["checking_in"]]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        outcomes = list(pool.map(lambda e: e.run(), employees))
    return outcomes, time.perf_counter() - t0


# --- the invariants ----------------------------------------------------------------------------
def check_tables(outcomes: list[Outcome], people: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.wiring import get_services
    records = get_services().records
    lost, duplicated, half_written, mismatched = [], [], [], []
    for o in outcomes:
        checkins = records.checkins_between(o.nip, DATE, DATE)
        day = records.day(o.nip, DATE)
        if len(checkins) > 1:
            duplicated.append(o.nip)
        if o.decision is not None and not checkins:
            lost.append(o.nip)
        if o.checkin_id and checkins and checkins[0].checkin_id != o.checkin_id:
            mismatched.append(o.nip)
        counted = any(c.decision in ("accepted", "flagged") for c in checkins)
        if counted != bool(day is not None and day.day.has_checkin):
            half_written.append(o.nip)
    for nip in people["absent"]:
        if records.checkins_between(nip, DATE, DATE):
            duplicated.append(nip)
    return {"lost": lost, "duplicated": duplicated, "half_written": half_written, "answer_mismatch": mismatched}


def invariants(outcomes: list[Outcome], tables: dict[str, Any]) -> dict[str, bool]:
    return {
        "exactly_one_record_per_checkin": not (tables["lost"] or tables["duplicated"] or tables["answer_mismatch"]),
        "no_half_written_day": not tables["half_written"],
        "every_client_decision_or_retryable_503": all(o.last in ("decision", "retryable_503") for o in outcomes),
        "every_503_has_retry_after": all(o.missing_retry_after == 0 for o in outcomes),
        "retry_after_503_succeeded": all(o.decision is not None for o in outcomes if o.got_503),
        "same_key_retry_same_decision": all(o.repeat_same is not False for o in outcomes if o.retrier),
        "no_5xx_but_503": all(not o.other_5xx for o in outcomes),
    }


# --- the absence job under faults --------------------------------------------------------------
def tap_topic(env: dict[str, str]) -> Any:
    from chalicelib.adapters import aws
    from chalicelib.common.settings import get_settings
    s = get_settings()
    sqs, sns = aws.client("sqs", s), aws.client("sns", s)
    url = sqs.create_queue(QueueName="load-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=env["HADIR_TOPIC_SUPERVISOR_ALERTS"], Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})

    def read() -> list[dict[str, Any]]:
        out = []
        while True:
            msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not msgs:
                return out
            out += [json.loads(m["Body"]) for m in msgs]
            sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                            for i, m in enumerate(msgs)])
    return read


def absence_job(stack: Any, people: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from local.faults import Faults
    read = tap_topic(stack.env)
    runs: list[str] = []
    errors: list[str] = []
    rate = args.fault_rate if args.job_fault_rate is None else args.job_fault_rate
    faults = Faults(rate, args.seed + 1)
    with faults:
        for _ in range(args.job_attempts):  # until a run completes (Lambda retries a failed one), then once more
            try:
                stack.run_job("detect_absence_wita", JOB_NOW)
                runs.append("ok")
            except Exception as exc:  # noqa: BLE001 - a run failed under the faults: run it again
                runs.append(type(exc).__name__)
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
            if runs.count("ok") == 2:
                break
    notices = [m for m in read() if m.get("kind") == "absence_notice" or "absentees" in m]
    per_key = Counter(f"{m.get('date')}#{m.get('zone')}#{m.get('supervisor_nip')}" for m in notices)
    expected = {f"{DATE}#WITA#{people['supervisor_of'][nip]}" for nip in people["absent"]}
    told = {nip for m in notices for a in m.get("absentees", []) for nip in [a.get("nip") if isinstance(a, dict) else a]}
    return {"runs": runs, "errors": sorted(set(errors))[:5], "completed_runs": runs.count("ok"), "notices": len(notices),
            "per_supervisor_max": max(per_key.values(), default=0),
            "expected_supervisors_told": len(expected & set(per_key)), "expected_supervisors": len(expected),
            "absentees_told": len(set(people["absent"]) & told), "absentees": len(people["absent"]),
            "faults": dict(faults.counts), "fault_calls": faults.calls,
            # once: a run completed, and no run (failed or completed) sent a notice twice, before or after it
            "runs_after_first_completion": len(runs) - 1 - runs.index("ok") if "ok" in runs else 0,
            "each_notice_once": "ok" in runs and all(v == 1 for v in per_key.values()) and expected <= set(per_key)}


# --- the report --------------------------------------------------------------------------------
def api_faults(prefix: str) -> dict[str, int]:
    total: Counter[str] = Counter()
    for path in glob.glob(prefix + ".*.json"):
        with open(path) as f:
            data = json.load(f)
        total.update(data["counts"])
        total["calls"] += data["calls"]
    return dict(total)


def unhandled_errors(app_log: str) -> list[str]:
    """The last lines of each traceback the app logged as "unhandled error" (its 500s' causes)."""
    try:
        lines = open(app_log, encoding="utf-8", errors="replace").read().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        if '"unhandled error"' in line:
            try:
                found.append(json.loads(line).get("exception", "")[-600:])
            except ValueError:
                found.append(line[-600:])
    return found[:10]


def summary(outcomes: list[Outcome], seconds: float) -> dict[str, Any]:
    lat = [ms for o in outcomes for _, ms in o.latencies]
    checkin_lat = [ms for o in outcomes for p, ms in o.latencies if p == "/checkins"]
    decided = sum(o.decision is not None for o in outcomes)
    return {"requests": len(lat), "seconds": round(seconds, 1),
            "throughput_rps": round(len(lat) / seconds, 2) if seconds else None,
            "checkins_per_s": round(decided / seconds, 2) if seconds else None,
            "p50_ms": pct(lat, 0.5), "p95_ms": pct(lat, 0.95), "p99_ms": pct(lat, 0.99),
            "checkin_p50_ms": pct(checkin_lat, 0.5), "checkin_p95_ms": pct(checkin_lat, 0.95),
            "checkin_p99_ms": pct(checkin_lat, 0.99),
            "status_counts": dict(sorted(Counter(str(s) for o in outcomes for s in o.statuses).items())),
            "codes_503": dict(Counter(c for o in outcomes for c in o.codes_503)),
            "decisions": dict(Counter(o.decision or o.last for o in outcomes)),
            "clients": len(outcomes), "clients_with_503": sum(o.got_503 for o in outcomes),
            "retriers": sum(o.retrier for o in outcomes)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--employees", type=int, default=300)
    ap.add_argument("--absent", type=int, default=None, help="employees who never check in (default employees/10, >= 2)")
    ap.add_argument("--fault-rate", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--retry-share", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=16, help="employees checking in at once")
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--max-requests", type=int, default=0, help="default 12 per employee")
    ap.add_argument("--job-attempts", type=int, default=30)
    ap.add_argument("--job-fault-rate", type=float, default=None, help="the absence job's (default --fault-rate)")
    ap.add_argument("--app-log", help="keep chalice local's output here (default: the run's temp dir)")
    ap.add_argument("--in-progress-s", type=int, default=None,
                    help="HADIR_IDEMPOTENCY_IN_PROGRESS_S for the API (default the app's, 29)")
    args = ap.parse_args(argv)
    args.absent = max(2, args.employees // 10) if args.absent is None else args.absent
    saved = dict(os.environ)
    import tests.faces  # noqa: F401  (the posed photos; tests/conftest.py sets the test stage's environment)
    os.environ.clear()
    os.environ.update(saved)
    workdir = tempfile.mkdtemp(prefix="hadir-load-")
    fault_log = os.path.join(workdir, "faults")
    args.app_log = args.app_log or os.path.join(workdir, "app.log")
    load_before = os.getloadavg()
    stack = start_stack(args, fault_log)
    try:
        t = time.perf_counter()
        people = seed_people(args.employees, args.absent, args.seed)
        seed_s = time.perf_counter() - t
        stack.start_chalice()
        outcomes, seconds = drive(f"http://127.0.0.1:{stack.args.api_port}", people, args)
        load_during = os.getloadavg()
        tables = check_tables(outcomes, people)
        job = absence_job(stack, people, args)
    finally:
        stack.shutdown()
    checks = {**invariants(outcomes, tables), "absence_notice_once": job["each_notice_once"]}
    out = {**summary(outcomes, seconds), "employees": args.employees, "absent": args.absent,
           "fault_rate": args.fault_rate, "job_fault_rate": args.job_fault_rate, "seed": args.seed, "concurrency": args.concurrency,
           "invariants": checks, "ok": all(checks.values()),
           "violations": {k: v[:10] for k, v in tables.items() if v},
           "unexpected": [o.last for o in outcomes if o.last not in ("decision", "retryable_503")][:10],
           "other_5xx": [x for o in outcomes for x in o.other_5xx][:10],
           "unhandled_errors": unhandled_errors(args.app_log),
           "faults_api": api_faults(fault_log), "absence_job": job, "seed_s": round(seed_s, 1),
           "machine": machine(), "load_average": {"before": [round(x, 2) for x in load_before],
                                                  "during": [round(x, 2) for x in load_during],
                                                  "after": [round(x, 2) for x in os.getloadavg()]},
           "aws": "moto server over loopback HTTP; chalice local (threaded) with local/faults.py"}
    print(f"{out['requests']} requests in {out['seconds']} s ({out['throughput_rps']}/s); p50 {out['p50_ms']} ms, "
          f"p95 {out['p95_ms']} ms, p99 {out['p99_ms']} ms; statuses {out['status_counts']}")
    print(f"invariants: {checks}")
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
