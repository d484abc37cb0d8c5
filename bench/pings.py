"""10,000 location pings in a minute for one agency, on the local stack's way of running.

A moto server on loopback (``bench.recap.start_moto``, as ``python -m local.stack`` runs it), the
``local`` stage's settings, N employees of one Denpasar office (WITA, 08:00-15:30) and the agency's
region (Kota Denpasar, roughly). Each round, every employee sends one ping through the use case
(``services.pings.ping``: the same reads, conditional writes and alert as ``POST /me/pings``, JWT
check and HTTP parsing excluded), ``--threads`` at a time; ``--outside`` of them (a share) are in
Gianyar, outside the region. Round 1 opens their episodes (one alert each), round 2 extends them
(no alert). The clock stands at 10:00 local, the rate limit is off (HADIR_PING_MIN_INTERVAL_S=0)
since every round is one minute of pings. Bounded: it stops after ``--max-seconds``.

The last line of stdout is one JSON object: ``pings`` (accepted), ``seconds`` (wall clock of the
pings, seeding excluded), ``episodes`` (stored, read back from by_episode_date), ``alerts``
(published), ``expected_episodes``, ``refused``, ``pings_per_minute``, ``cpu_seconds`` (the
process's CPU time over the pings: the use case and its clients AND the moto server's threads, one
process, one GIL), ``cpu_ms_per_ping`` and ``pings_per_cpu_minute`` (what one core to itself would
do: a shared machine's load stretches the wall clock, much less the CPU time) and the machine.

    .venv/bin/python -m bench.pings --employees 5000 --rounds 2
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from bench.recap import UNITS, _write_all, load_average, nip, stage_env, start_moto

AT = "2026-03-03T10:00:00+08:00"
OFFICE = {"office_id": "denpasar", "name": "Kantor Denpasar", "timezone": "Asia/Makassar",
          "geofence": {"type": "circle", "lat": -8.6705, "lon": 115.2126, "radius_m": 150},
          "rules": {"timezone": "Asia/Makassar", "checkin_window": ["06:00", "08:00"], "work_start": "08:00",
                    "work_end": "15:30", "checkout_window": ["15:30", "18:00"]}}
REGION = {"name": "Kota Denpasar", "boundary": {"type": "Polygon", "coordinates": [[
    [115.15, -8.75], [115.30, -8.75], [115.30, -8.58], [115.15, -8.58], [115.15, -8.75]]]}}
INSIDE, OUTSIDE = (-8.6705, 115.2126), (-8.5069, 115.2625)


class CountingNotifier:
    def __init__(self) -> None:
        self.lock, self.published = threading.Lock(), []

    def publish(self, notice, subject) -> None:
        with self.lock:
            self.published.append(notice)

    def send_email(self, to, subject, body) -> None:  # pragma: no cover - never called here
        pass


def seed(client, svc, employees: int, agency: str) -> None:
    from chalicelib.adapters.storage.models import EmployeeModel
    from chalicelib.services.records import Office
    svc.records.put_office(Office(**OFFICE), now="2026-03-01T00:00:00.000+00:00")
    svc.records.put_agency_config("region", REGION, None, "bench", "2026-03-01T00:00:00.000+00:00")
    _write_all(client, EmployeeModel.Meta.table_name, (
        EmployeeModel(nip(k), name=f"Pegawai {k}", unit=f"Unit {k % UNITS:02d}", office_ids=["denpasar"],
                      primary_office="denpasar", supervisor_nip=nip(employees + k % UNITS), agency_id=agency,
                      created_at="2026-01-01T00:00:00Z", version=1).serialize() for k in range(employees)))


def body(lat: float, lon: float):
    from chalicelib.services.schemas_whereabouts import PingRequest
    return PingRequest.model_validate({"location": {"lat": lat + 1e-5, "lon": lon + 1e-5, "accuracy_m": 12,
                                                    "captured_at": AT, "is_mock": False}})


def run(employees: int, rounds: int, threads: int, outside_share: float, max_seconds: float) -> dict:
    server, url = start_moto()
    stage_env(url)
    os.environ["HADIR_PING_MIN_INTERVAL_S"] = "0"
    import boto3

    from chalicelib import wiring
    from chalicelib.adapters import aws
    from chalicelib.common.clock import FixedClock
    from chalicelib.common.logs import logger
    from chalicelib.common.settings import get_settings, reset_settings
    from chalicelib.services import pings
    from local.bootstrap import create_all

    logger.setLevel("WARNING")  # stdout is the result (one INFO line per episode otherwise)

    region = os.environ["AWS_DEFAULT_REGION"]
    os.environ.update(create_all(lambda s: boto3.client(s, region_name=region, endpoint_url=url), "local",
                                 agency=os.environ["HADIR_AGENCY_ID"]))
    reset_settings()
    aws.reset_clients()
    notifier = CountingNotifier()
    wiring.configure(clock=FixedClock(datetime.fromisoformat(AT)), notifier=notifier)
    svc = wiring.get_services()
    seed(boto3.client("dynamodb", region_name=region, endpoint_url=url), svc, employees, get_settings().agency_id)
    outside = {nip(k) for k in range(employees) if k % round(1 / outside_share) == 0} if outside_share else set()
    bodies = {True: body(*OUTSIDE), False: body(*INSIDE)}
    done, refused, stopped = [0], [0], [False]
    t0 = time.perf_counter()

    def one(n: str) -> None:
        if time.perf_counter() - t0 > max_seconds:
            stopped[0] = True
            return
        try:
            pings.ping(svc, n, bodies[n in outside])
            done[0] += 1
        except Exception:  # noqa: BLE001 - counted, the bench goes on
            refused[0] += 1

    load = load_average()
    cpu0 = time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(rounds):
            list(pool.map(one, [nip(k) for k in range(employees)]))
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    episodes = svc.records.episodes_on("2026-03-03")
    alerts = [n for n in notifier.published if n.get("kind") == "episode_alert"]
    wiring.reset()
    server.stop()
    return {"pings": done[0], "seconds": round(seconds, 2), "episodes": len(episodes), "alerts": len(alerts),
            "expected_episodes": len(outside), "refused": refused[0], "stopped_at_bound": stopped[0],
            "alerts_per_episode_max": max((sum(1 for a in alerts if a["episode_id"] == e.episode_id)
                                           for e in episodes), default=0),
            "pings_per_minute": round(60 * done[0] / max(seconds, 1e-9)), "cpu_seconds": round(cpu, 2),
            "cpu_ms_per_ping": round(1000 * cpu / max(done[0], 1), 2),
            "pings_per_cpu_minute": round(60 * done[0] / max(cpu, 1e-9)), "employees": employees, "rounds": rounds,
            "threads": threads, "moto": "server, loopback", "load_average_before": load,
            "load_average_after": load_average(), "python": platform.python_version(), "cpus": os.cpu_count()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--employees", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--outside", type=float, default=0.05, help="the share of employees outside the region")
    ap.add_argument("--max-seconds", type=float, default=300.0, help="stop sending after this many seconds")
    args = ap.parse_args()
    out = run(args.employees, args.rounds, args.threads, args.outside, args.max_seconds)
    print(json.dumps(out))
    return 0 if out["alerts"] == out["episodes"] == out["expected_episodes"] else 1


if __name__ == "__main__":
    sys.exit(main())
