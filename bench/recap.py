"""The monthly recap at an agency's size, on the local stack's way of running: a moto server on
loopback (``ThreadedMotoServer``, as ``python -m local.stack`` runs it), the ``local`` stage's
settings, N employees x a month's day records seeded by BatchWriteItem, then the recap produced
through the service (``chalicelib.services.recap.write_recap``: the same code as ``POST
/admin/recaps`` and ``python -m admin recap``), its progress streamed to stderr every tenth of the
staff. The process (client and moto server threads) is pinned to one core (``--cpu``, default 0;
``--cpu -1`` leaves it unpinned).

    .venv/bin/python -m bench.recap [--employees 7000] [--month 2026-09] [--no-earlier-recaps]

Before the timed recap (and outside it) the year's earlier months get complete recap runs as
each month's end would have left them (``seed_earlier_recaps``), so the PP 94/2021 count comes
from those runs as in production; ``--no-earlier-recaps`` times the fallback that reads their
day records instead (every date of January to August: many more keys).

The last stdout line is one JSON object: ``employees``, ``working_days``, ``seconds`` (the recap
only, seeding excluded; wall clock), ``cpu_seconds`` (the process's CPU time over the recap:
client and moto server threads, what a shared core's load inflates least), ``client_cpu_seconds``
(the recap's thread alone: the service and its AWS clients) and ``moto_server_cpu_seconds`` (the
rest: the moto server's request threads, the stand-in for DynamoDB and S3), ``peak_memory_mb`` (the process's peak RSS, which includes the moto
server's copy of every item), ``rss_before_recap_mb``, ``dynamodb_calls`` (by operation, with
their seconds), ``s3_calls`` and the recap's file sizes. Figures and the machine:
bench/RESULTS-recap.md.
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


def start_moto() -> tuple[object, str]:
    """A moto server on loopback, a free port, as the local stack runs it."""
    import logging

    from moto.server import ThreadedMotoServer

    from local import fast_moto
    fast_moto.install()  # as local.stack does: DynamoDB items written as JSON, not member by member
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def stage_env(moto_url: str) -> None:
    """The ``local`` stage's settings (local.stack's), every AWS call to the moto server."""
    from local.stack import stage_env as local_env
    os.environ.update(local_env(moto_url, None))
    os.environ.pop("HADIR_NOW", None)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")


def count_calls() -> tuple[Counter, Counter]:
    """Every botocore call (boto3's and PynamoDB's): (calls, seconds) by ``service:operation``
    (with each Query named by its index: ``dynamodb:Query:by_status``)."""
    import botocore.client
    calls: Counter = Counter()
    spent: Counter = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counted(self, operation_name, api_params):
        name = f"{self.meta.service_model.service_name}:{operation_name}" + (
            f":{api_params['IndexName']}" if api_params.get("IndexName") else "")
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


def _write_all(client, table: str, items) -> None:
    """BatchWriteItem, 25 items a request, unprocessed items resent."""
    chunk: list[dict] = []

    def flush() -> None:
        pending = {table: chunk}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        chunk.clear()

    for item in items:
        chunk.append({"PutRequest": {"Item": item}})
        if len(chunk) == 25:
            flush()
    if chunk:
        flush()


def seed_staff(client, employees: int, agency: str) -> None:
    """The Denpasar office and its staff (the recap walks each office's staff: by_office)."""
    from chalicelib.adapters.storage.models import EmployeeModel, OfficeModel
    from chalicelib.common.resources import zone_of
    OfficeModel("denpasar", name="Kantor Denpasar", timezone="Asia/Makassar", agency_id=agency,
                geofence={"type": "circle", "lat": -8.6705, "lon": 115.2126, "radius_m": 150},
                rules={"timezone": "Asia/Makassar", "checkin_window": ["06:00", "08:00"], "work_start": "08:00",
                       "work_end": "15:30", "checkout_window": ["15:30", "18:00"]},
                updated_at=SEEDED_AT, zone=zone_of("Asia/Makassar")).save()
    _write_all(client, EmployeeModel.Meta.table_name, (
        EmployeeModel(nip(k), name=f"Pegawai {k}", unit=f"Unit {k % UNITS:02d}", office_ids=["denpasar"],
                      primary_office="denpasar", agency_id=agency, created_at=SEEDED_AT, version=1).serialize() for k in range(employees)))


def seed_days(client, employees: int, days: list[date], agency: str) -> None:
    from chalicelib.adapters.storage.models import AttendanceModel
    from chalicelib.common.resources import date_shard_key, date_shard_of
    from chalicelib.policy.day import day_to_dict

    def items():
        for k in range(employees):
            n = nip(k)
            for i, d in enumerate(days):
                day = day_of(k, i, "denpasar")
                yield AttendanceModel(n, f"DAY#{d.isoformat()}", nip_sk=f"{n}#DAY#{d.isoformat()}",
                                      local_date=d.isoformat(), item_type="day",
                                      date_shard=date_shard_key(d.isoformat(), date_shard_of(n)), office_id="denpasar",
                                      agency_id=agency, status=day.status, data=day_to_dict(day),
                                      created_at=SEEDED_AT, version=1).serialize()
    _write_all(client, AttendanceModel.Meta.table_name, items())


def seed_earlier_recaps(svc, employees: int, first: date) -> list[str]:
    """The year's earlier months (and the December before) as complete recap runs (what each month-end recap left):
    recap.csv with the recap's columns, every employee a row, an unexcused absence now and then
    in the cut reasons; manifest.json through the month's last day. Written straight to the
    exports bucket (making them through write_recap would read 8 months of keys first)."""
    import hashlib

    from chalicelib.policy import recap as policy
    from chalicelib.policy.export import table_to_csv
    from chalicelib.services.recap import recap_prefix
    columns = policy.recap_columns(svc.lateness)
    made = []
    months = [date(first.year - 1, 12, 1)] + [date(first.year, m, 1) for m in range(1, first.month)]
    for start in months:  # from the December before: a run of consecutive absence may begin there
        m = start.month
        last = date.fromordinal(date(start.year + m // 12, m % 12 + 1, 1).toordinal() - 1)
        rows = []
        for k in range(employees):
            reasons = [{"date": start.replace(day=2 + (k + i) % 20).isoformat(), "code": code, "percent": pct}
                       for i, (code, pct) in enumerate((("late", 0.5), ("absent", 5.0)))
                       if code != "absent" or (k + m) % 7 == 0]
            rows.append({**{c: 0 for c in columns}, "nip": nip(k), "name": f"Pegawai {k}",
                         "unit": f"Unit {k % UNITS:02d}", "cut_reasons": reasons, "leave_by_type": {},
                         "pending_reviews": []})
        body = table_to_csv(columns, rows)
        run = f"{last.strftime('%Y%m%d')}T235959000000Z-bench{m:02d}"
        own = f"{recap_prefix(svc, start)}run={run}/"
        man = {"kind": "monthly_recap", "month": start.isoformat()[:7], "through": last.isoformat(),
               "run_sequence": 1, "files": {"recap.csv": hashlib.sha256(body).hexdigest()}}
        svc.exports.put(own + "recap.csv", body, "text/csv")
        svc.exports.put(own + "manifest.json", json.dumps(man).encode(), "application/json")
        made.append(start.isoformat()[:7])
    return made


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(employees: int, month: str, earlier_recaps: bool = True, quiet: bool = False) -> dict:
    server, url = start_moto()
    stage_env(url)
    import boto3

    from chalicelib import wiring
    from chalicelib.adapters import aws
    from chalicelib.common.clock import FixedClock
    from chalicelib.common.settings import get_settings, reset_settings
    from chalicelib.services.recap import write_recap
    from local.bootstrap import create_all

    say = (lambda *_: None) if quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    region = os.environ["AWS_DEFAULT_REGION"]
    os.environ.update(create_all(lambda s: boto3.client(s, region_name=region, endpoint_url=url), "local",
                                 agency=os.environ["HADIR_AGENCY_ID"]))
    reset_settings()
    aws.reset_clients()
    first = date.fromisoformat(month + "-01")
    after = datetime(first.year + first.month // 12, first.month % 12 + 1, 2, 3, tzinfo=timezone.utc)
    wiring.configure(clock=FixedClock(after))  # the month is over: the whole of it counts
    svc = wiring.get_services()
    last = date(after.year, after.month, 1).toordinal() - 1
    days = svc.calendar.working_days(first, date.fromordinal(last))
    agency = get_settings().agency_id
    client = boto3.client("dynamodb", region_name=region, endpoint_url=url)
    t0 = time.perf_counter()
    seed_staff(client, employees, agency)
    earlier = seed_earlier_recaps(svc, employees, first) if earlier_recaps else []
    earlier_s = time.perf_counter() - t0
    seed_days(client, employees, days, agency)
    seeded = time.perf_counter() - t0 - earlier_s
    say(f"seeded {employees} employees x {len(days)} working days in {seeded:.1f} s "
        f"(earlier recaps {', '.join(earlier) or 'none'}: {earlier_s:.1f} s)")
    calls, spent = count_calls()
    before = rss_mb()
    step = max(1, employees // 10)

    def progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            say(f"  {done}/{total} employees  {time.perf_counter() - t1:.1f} s")

    load = load_average()
    t1, cpu, client_cpu = time.perf_counter(), time.process_time(), time.thread_time()
    out = write_recap(svc, month, actor="bench", progress=progress)
    seconds, cpu = time.perf_counter() - t1, time.process_time() - cpu
    client_cpu = time.thread_time() - client_cpu  # this thread: the recap's own code and its clients
    wiring.reset()
    server.stop()
    dynamo = {k.split(":", 1)[1]: v for k, v in calls.items() if k.startswith("dynamodb:")}
    return {"employees": out.employees, "working_days": len(days), "month": month,
            "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "client_cpu_seconds": round(client_cpu, 2), "moto_server_cpu_seconds": round(cpu - client_cpu, 2), "ms_per_employee": round(1000 * seconds / max(1, out.employees), 2),
            "seed_seconds": round(seeded, 1), "earlier_recaps": earlier, "earlier_recaps_seconds": round(earlier_s, 1),
            "peak_memory_mb": rss_mb(), "rss_before_recap_mb": before,
            "dynamodb_calls": sum(dynamo.values()), "dynamodb_calls_by_operation": dynamo,
            "dynamodb_seconds_by_operation": {k.split(":", 1)[1]: round(v, 2) for k, v in spent.items()
                                              if k.startswith("dynamodb:")},
            "s3_calls_by_operation": {k.split(":", 1)[1]: v for k, v in calls.items() if k.startswith("s3:")},
            "files": {f.name: f.bytes for f in out.files}, "units": out.units, "moto": "server, loopback",
            "cpu_affinity": sorted(os.sched_getaffinity(0)), "load_average_before": load,
            "load_average_after": load_average(), "python": platform.python_version(), "cpus": os.cpu_count()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--employees", type=int, default=7000)
    ap.add_argument("--month", default="2026-09", help="September 2026: 22 working days in the default calendar")
    ap.add_argument("--no-earlier-recaps", dest="earlier", action="store_false",
                    help="no recap runs of the earlier months: the recap reads their days instead")
    ap.add_argument("--cpu", type=int, default=0, help="the one core to run on (-1: not pinned)")
    args = ap.parse_args()
    if args.cpu >= 0:
        os.sched_setaffinity(0, {args.cpu})
    print(json.dumps(run(args.employees, args.month, args.earlier)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
