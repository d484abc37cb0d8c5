"""10,000 location pings in a minute for one agency, on the local stack's way of running.

As ``python -m local.stack`` runs it, the moto server (with ``local/fast_moto.py``) is a process
of its own and the application another: here ``--processes`` client processes of ``--threads``
threads each send the pings, so neither side shares the other's GIL (2 cores: the server on one,
the clients on the other). The ``local`` stage's settings, N employees of one Denpasar office
(WITA, 08:00-15:30) and the agency's region (Kota Denpasar, roughly). Each round, every employee
sends one ping through the use case (``services.pings.ping``: the same reads, conditional writes
and alert as ``POST /me/pings``, JWT check and HTTP parsing excluded); ``--outside`` of them (a
share) are in Gianyar, outside the region. An employee's pings all go through one client process
(its share of the staff), so round 1 opens their episodes (one alert each), round 2 extends them
(no alert). The clock stands at 10:00 local, the rate limit is off (HADIR_PING_MIN_INTERVAL_S=0)
since every round is one minute of pings. Bounded: each client stops after ``--max-seconds``.

The last line of stdout is one JSON object: ``pings`` (accepted), ``seconds`` (wall clock of the
pings, seeding and process start excluded), ``episodes`` (stored, read back from
by_episode_date), ``alerts`` (published, every client's), ``expected_episodes``, ``refused``,
``pings_per_minute``, ``client_cpu_ms_per_ping`` (the client processes' CPU time over the pings:
the use case, PynamoDB, botocore), ``server_cpu_ms_per_ping`` (the moto server process's, from
/proc), the load averages and the machine. ``--profile DIR`` writes cProfile stats of the server
(every request, one at a time: run it with one process and one thread) and of each client.
``--lean-client`` turns botocore's client-side parameter validation off in the bench's clients
(the server validates anyway; the application keeps it on).

    .venv/bin/python -m bench.pings --employees 5000 --rounds 2 --processes 2 --threads 4
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from bench.recap import UNITS, _write_all, load_average, nip, stage_env

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


def serve(conn, profile: str | None) -> None:
    """The moto server process: the local stack's (``fast_moto`` installed), on a free port."""
    import logging

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from local import fast_moto
    fast_moto.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if profile:
        _profile_requests(profile)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    conn.send("http://%s:%d" % server.get_host_and_port())
    conn.recv()  # stop
    server.stop()
    if profile:
        _PROFILE[0].dump_stats(profile)
    conn.send("stopped")


_PROFILE: list = []


def _profile_requests(path: str) -> None:
    """Every WSGI request under one profiler, one request at a time (a lock)."""
    import cProfile

    from moto.moto_server import werkzeug_app
    prof, lock = cProfile.Profile(), threading.Lock()
    _PROFILE.append(prof)
    original = werkzeug_app.DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        with lock:
            prof.enable()
            try:
                return original(self, environ, start_response)
            finally:
                prof.disable()

    werkzeug_app.DomainDispatcherApplication.__call__ = call


def proc_cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time, every thread (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def services(env: dict[str, str], lean: bool):
    os.environ.update(env)
    from chalicelib import wiring
    from chalicelib.adapters import aws
    from chalicelib.common.clock import FixedClock
    from chalicelib.common.logs import logger
    from chalicelib.common.settings import reset_settings
    logger.setLevel("WARNING")  # stdout is the result (one INFO line per episode otherwise)
    if lean:
        from botocore.config import Config
        aws._CONFIG = aws._CONFIG.merge(Config(parameter_validation=False))
    reset_settings()
    aws.reset_clients()
    notifier = CountingNotifier()
    wiring.configure(clock=FixedClock(datetime.fromisoformat(AT)), notifier=notifier)
    return wiring.get_services(), notifier


def body(lat: float, lon: float):
    from chalicelib.services.schemas_whereabouts import PingRequest
    return PingRequest.model_validate({"location": {"lat": lat + 1e-5, "lon": lon + 1e-5, "accuracy_m": 12,
                                                    "captured_at": AT, "is_mock": False}})


def client(env: dict[str, str], nips: list[str], outside: set[str], rounds: int, threads: int,
           max_seconds: float, lean: bool, profile: str | None, start, results) -> None:
    """One client process: its share of the staff, ``threads`` at a time, round after round."""
    from chalicelib.services import pings
    svc, notifier = services(env, lean)
    bodies = {True: body(*OUTSIDE), False: body(*INSIDE)}
    done, refused, stopped = [0], [0], [False]
    start.wait()
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

    prof = None
    if profile:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    cpu0 = time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(rounds):
            list(pool.map(one, nips))
    cpu = time.process_time() - cpu0
    if prof:
        prof.disable()
        prof.dump_stats(profile)
    results.put({"pings": done[0], "refused": refused[0], "stopped": stopped[0], "cpu": cpu,
                 "alerts": [a["episode_id"] for a in notifier.published if a.get("kind") == "episode_alert"]})


def seed(url: str, employees: int) -> tuple[dict[str, str], object]:
    """The tables (local.bootstrap), the office, the region and the staff; the clients' env."""
    stage_env(url)
    os.environ["HADIR_PING_MIN_INTERVAL_S"] = "0"
    import boto3

    from chalicelib.adapters.storage.models import EmployeeModel
    from chalicelib.services.records import Office
    from local.bootstrap import create_all
    region = os.environ["AWS_DEFAULT_REGION"]
    os.environ.update(create_all(lambda s: boto3.client(s, region_name=region, endpoint_url=url), "local",
                                 agency=os.environ["HADIR_AGENCY_ID"]))
    env = {k: v for k, v in os.environ.items() if k.startswith(("HADIR_", "AWS_", "POWERTOOLS_"))}
    svc, _ = services(env, False)
    svc.records.put_office(Office(**OFFICE), now="2026-03-01T00:00:00.000+00:00")
    svc.records.put_agency_config("region", REGION, None, "bench", "2026-03-01T00:00:00.000+00:00")
    agency = os.environ["HADIR_AGENCY_ID"]
    _write_all(boto3.client("dynamodb", region_name=region, endpoint_url=url), EmployeeModel.Meta.table_name, (
        EmployeeModel(nip(k), name=f"Pegawai {k}", unit=f"Unit {k % UNITS:02d}", office_ids=["denpasar"],
                      primary_office="denpasar", supervisor_nip=nip(employees + k % UNITS), agency_id=agency,
                      created_at="2026-01-01T00:00:00Z", version=1).serialize() for k in range(employees)))
    return env, svc


def run(employees: int, rounds: int, processes: int, threads: int, outside_share: float, max_seconds: float,
        lean: bool = False, profile: str | None = None) -> dict:
    ctx = mp.get_context("spawn")
    here, there = ctx.Pipe()
    server = ctx.Process(target=serve, args=(there, profile and os.path.join(profile, "server.prof")), daemon=True)
    server.start()
    env, svc = seed(here.recv(), employees)
    staff = [nip(k) for k in range(employees)]
    outside = {n for k, n in enumerate(staff) if k % round(1 / outside_share) == 0} if outside_share else set()
    start, results = ctx.Barrier(processes + 1), ctx.Queue()
    clients = [ctx.Process(target=client, args=(env, staff[i::processes], outside, rounds, threads, max_seconds,
                                                lean, profile and os.path.join(profile, f"client{i}.prof"), start,
                                                results)) for i in range(processes)]
    for c in clients:
        c.start()
    load = load_average()
    start.wait()
    t0, server_cpu0 = time.perf_counter(), proc_cpu_seconds(server.pid)
    got = [results.get() for _ in clients]
    seconds, server_cpu = time.perf_counter() - t0, proc_cpu_seconds(server.pid) - server_cpu0
    for c in clients:
        c.join()
    episodes = svc.records.episodes_on("2026-03-03")
    here.send("stop")
    here.recv()
    server.join()
    return summary(got, episodes, outside, seconds, server_cpu, load) | {
        "employees": employees, "rounds": rounds, "processes": processes, "threads": threads,
        "lean_client": lean, "moto": "server process, loopback", "python": platform.python_version(),
        "cpus": os.cpu_count()}


def summary(got: list[dict], episodes: list, outside: set[str], seconds: float, server_cpu: float,
            load: list[float]) -> dict:
    done = sum(g["pings"] for g in got)
    alerts = [a for g in got for a in g["alerts"]]
    client_cpu = sum(g["cpu"] for g in got)
    per = max(done, 1)
    return {"pings": done, "seconds": round(seconds, 2), "episodes": len(episodes), "alerts": len(alerts),
            "expected_episodes": len(outside), "refused": sum(g["refused"] for g in got),
            "stopped_at_bound": any(g["stopped"] for g in got),
            "alerts_per_episode_max": max((alerts.count(e.episode_id) for e in episodes), default=0),
            "alerts_without_episode": len(set(alerts) - {e.episode_id for e in episodes}),
            "pings_per_minute": round(60 * done / max(seconds, 1e-9)),
            "client_cpu_seconds": round(client_cpu, 2), "server_cpu_seconds": round(server_cpu, 2),
            "client_cpu_ms_per_ping": round(1000 * client_cpu / per, 2),
            "server_cpu_ms_per_ping": round(1000 * server_cpu / per, 2),
            "load_average_before": load, "load_average_after": load_average()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--employees", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--processes", type=int, default=2, help="client processes (the server is one more)")
    ap.add_argument("--threads", type=int, default=4, help="threads per client process")
    ap.add_argument("--outside", type=float, default=0.05, help="the share of employees outside the region")
    ap.add_argument("--max-seconds", type=float, default=300.0, help="each client stops sending after this")
    ap.add_argument("--lean-client", action="store_true", help="no botocore parameter validation in the clients")
    ap.add_argument("--profile", metavar="DIR", help="cProfile stats of the server and each client into DIR")
    args = ap.parse_args()
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
    out = run(args.employees, args.rounds, args.processes, args.threads, args.outside, args.max_seconds,
              args.lean_client, args.profile)
    print(json.dumps(out))
    ok = out["alerts"] == out["episodes"] == out["expected_episodes"] and out["alerts_per_episode_max"] == 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
