"""The monthly recap at an agency's size: N employees x a month's working days of day records in
moto (in-process ``mock_aws``, seeded by batch writes), then the recap produced through the
service (``chalicelib.services.recap.write_recap``: the same code as ``POST /admin/recaps`` and
``python -m admin recap``), its progress streamed to stderr every tenth of the staff.

    .venv/bin/python -m bench.recap [--employees 7000] [--month 2026-09]

The last stdout line is one JSON object: ``employees``, ``working_days``, ``seconds`` (the recap
only, seeding excluded), ``peak_memory_mb`` (the process's peak RSS, which includes moto's
in-process copy of every item), ``rss_before_recap_mb``, ``dynamodb_calls`` (by operation) and
the recap's file sizes. Figures and the machine: bench/RESULTS-recap.md.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import resource
import sys
import time
from collections import Counter
from datetime import date, datetime, timezone

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
UNITS = 50  # units of the agency: the staff spread evenly
SEEDED_AT = "2026-01-01T00:00:00Z"


def stage_env() -> None:
    """The ``test`` stage's settings, every AWS call in the process's moto (no endpoint)."""
    cfg = json.loads((ROOT / ".chalice" / "config.json").read_text())
    os.environ.update({**cfg.get("environment_variables", {}), **cfg["stages"]["test"]["environment_variables"]})
    for k in ("AWS_ENDPOINT_URL", "HADIR_AWS_ENDPOINT_URL", "HADIR_NOW"):
        os.environ.pop(k, None)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")


def count_dynamodb_calls() -> tuple[Counter, Counter]:
    """Every botocore call to DynamoDB (boto3's and PynamoDB's): (calls, seconds) by operation
    (with each Query named by its index: ``Query:by_employee``)."""
    import botocore.client
    calls: Counter = Counter()
    spent: Counter = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counted(self, operation_name, api_params):
        if self.meta.service_model.service_name != "dynamodb":
            return original(self, operation_name, api_params)
        name = operation_name + (f":{api_params['IndexName']}" if api_params.get("IndexName") else "")
        t = time.perf_counter()
        try:
            return original(self, operation_name, api_params)
        finally:
            calls[name] += 1
            spent[name] += time.perf_counter() - t

    botocore.client.BaseClient._make_api_call = counted
    return calls, spent


def nip(k: int) -> str:
    return f"19900101{k:06d}1001"[:18]


def day_of(k: int, i: int, office: str):
    """A varied but deterministic month: mostly on time, some late (TL1/TL2), some early leaving,
    a missing check-out now and then, an absence every so often."""
    from chalicelib.policy.day import Day
    r = (k * 31 + i * 7) % 40
    if r == 0:
        return Day(status="absent", office_id=office)
    late = 20 if r in (1, 2, 3) else 45 if r == 4 else 0
    return Day(status="late" if late else "present", office_id=office, first_in="08:20" if late else "07:50",
               last_out=None if r == 5 else "15:00" if r == 6 else "16:05", late_minutes=late,
               early_leave_minutes=30 if r == 6 else 0, work_mode="wfo" if r % 3 else "wfh",
               checkin_ids=(f"c{k}-{i}",))


def seed(employees: int, days: list[date], agency: str) -> None:
    from chalicelib.adapters.storage.models import AttendanceModel, EmployeeModel
    from chalicelib.policy.day import day_to_dict
    with EmployeeModel.batch_write() as batch:
        for k in range(employees):
            batch.save(EmployeeModel(nip(k), name=f"Pegawai {k}", unit=f"Unit {k % UNITS:02d}",
                                     office_ids=["denpasar"], agency_id=agency, created_at=SEEDED_AT))
    with AttendanceModel.batch_write() as batch:
        for k in range(employees):
            for i, d in enumerate(days):
                day, n = day_of(k, i, "denpasar"), nip(k)
                batch.save(AttendanceModel(n, f"DAY#{d.isoformat()}", nip_sk=f"{n}#DAY#{d.isoformat()}",
                                           local_date=d.isoformat(), item_type="day", office_id="denpasar",
                                           agency_id=agency, status=day.status, data=day_to_dict(day),
                                           created_at=SEEDED_AT))


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def run(employees: int, month: str, quiet: bool = False) -> dict:
    stage_env()
    import boto3
    from moto import mock_aws

    from chalicelib import wiring
    from chalicelib.common.clock import FixedClock
    from chalicelib.common.settings import get_settings, reset_settings
    from local.bootstrap import create_all

    with mock_aws():
        region = os.environ["AWS_DEFAULT_REGION"]
        os.environ.update(create_all(lambda s: boto3.client(s, region_name=region), "test"))
        reset_settings()
        first = date.fromisoformat(month + "-01")
        after = datetime(first.year + first.month // 12, first.month % 12 + 1, 2, 3, tzinfo=timezone.utc)
        wiring.configure(clock=FixedClock(after))  # the month is over: the whole of it counts
        svc = wiring.get_services()
        last = date(after.year, after.month, 1).toordinal() - 1
        days = svc.calendar.working_days(first, date.fromordinal(last))
        t0 = time.perf_counter()
        seed(employees, days, get_settings().agency_id)
        seeded = time.perf_counter() - t0
        say = (lambda *_: None) if quiet else (lambda m: print(m, file=sys.stderr, flush=True))
        say(f"seeded {employees} employees x {len(days)} working days in {seeded:.1f} s")
        from chalicelib.services.recap import write_recap
        calls, spent = count_dynamodb_calls()
        before = rss_mb()
        step = max(1, employees // 10)

        def progress(done: int, total: int) -> None:
            if done % step == 0 or done == total:
                say(f"  {done}/{total} employees  {time.perf_counter() - t1:.1f} s")

        t1 = time.perf_counter()
        out = write_recap(svc, month, actor="bench", progress=progress)
        seconds = time.perf_counter() - t1
        wiring.reset()
    return {"employees": out.employees, "working_days": len(days), "month": month,
            "seconds": round(seconds, 2), "ms_per_employee": round(1000 * seconds / max(1, out.employees), 2),
            "seed_seconds": round(seeded, 1), "peak_memory_mb": rss_mb(), "rss_before_recap_mb": before,
            "dynamodb_calls": sum(calls.values()), "dynamodb_calls_by_operation": dict(calls),
            "dynamodb_seconds_by_operation": {k: round(v, 2) for k, v in spent.items()},
            "files": {f.name: f.bytes for f in out.files}, "units": out.units,
            "python": platform.python_version(), "cpus": os.cpu_count()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--employees", type=int, default=7000)
    ap.add_argument("--month", default="2026-09", help="September 2026: 22 working days in the default calendar")
    args = ap.parse_args()
    print(json.dumps(run(args.employees, args.month)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
