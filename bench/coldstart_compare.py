"""Cold start of the packaged API handler, two revisions in one run: import -> accepted check-in.

    .venv/bin/python -m bench.coldstart_compare --before 983e918 --after HEAD [--runs 7]

For each revision: a git worktree, its Lambda zip built by its own ``infra/package.py`` (with this
checkout's Python 3.12), unpacked; a moto server bootstrapped and seeded by that revision's own
``local/`` code; one employee enrolled through the handler (``bench/coldstart.py api-enrol``).
Then ``--runs`` rounds, alternating the revisions so machine noise hits both alike: each round is
a fresh isolated process per revision (``python -I -S``: only the unpacked zip and boto3 on the
path, as Lambda's runtime) that imports ``app``, opens an upload session, uploads, and checks in
on a new working day (``HADIR_NOW``). Prints one JSON object: medians per revision, their
difference, package sizes, the machine.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from bench.host import machine

ROOT = Path(__file__).resolve().parents[1]
FACES = Path(os.environ.get("HADIR_FACES_DIR", ROOT.parent / "shared" / "faces" / "dev"))
# One identity's photos posed as the liveness challenges ask (tests/faces.py: POSED): enrolment
# and check-in answer front, left and right ("mirror:" is that photo flipped, written to --work).
POSED = "Jean_Chretien"
ENROLMENT = {"front": "7.jpg", "left": "2.jpg", "right": "5.jpg"}
CHECKIN = {"front": "13.jpg", "left": "10.jpg", "right": "mirror:8.jpg"}
# the API function's environment (infra/hadir_infra/stack.py) as far as a cold start goes
LIVENESS = {"HADIR_LIVENESS_DIRECTIONS": "left,right", "HADIR_ENROLMENT_APPROVAL": "false",
            "HADIR_WARM_UP": "true", "HADIR_WARM_UP_MODELS": "true"}  # (its name before 2026-12-02)
AYU, PASSWORD = "199001152015032001", "Hadir-Demo-2025"
DENPASAR = (-8.67052, 115.21263)  # 4 m from the office's centre
REGION = "ap-southeast-3"
RUNTIME_PACKAGES = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"]
METRICS = ("cold_start_to_accepted_checkin_s", "import_app_s", "upload_session_request_s",
           "checkin_request_s")


def sh(cmd: list[str], **kw) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd[:5]))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def build(rev: str, work: Path) -> dict:
    """Worktree, zip and unpacked package of one revision."""
    tree, pkg, report_file = work / f"tree-{rev}", work / f"pkg-{rev}", work / f"{rev}.json"
    if not (report_file.exists() and tree.is_dir() and pkg.is_dir()):  # --work DIR keeps builds
        shutil.rmtree(tree, ignore_errors=True)
        shutil.rmtree(pkg, ignore_errors=True)
        sh(["git", "-C", str(ROOT), "worktree", "prune"])
        sh(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev])
        report_file.write_text(sh([sys.executable, str(tree / "infra" / "package.py"), "--out",
                                   str(work / f"{rev}.zip"), "--build-dir", str(work / f"build-{rev}")]))
        shutil.unpack_archive(str(work / f"{rev}.zip"), str(pkg), "zip")
        shutil.rmtree(work / f"build-{rev}", ignore_errors=True)
    report = json.loads(report_file.read_text())
    return {"rev": rev, "tree": tree, "pkg": pkg, "unzipped_mb": report.get("unzipped_mb")}


def runtime_dir(work: Path) -> Path:
    import boto3
    site = Path(boto3.__file__).resolve().parents[1]
    dest = work / "runtime"
    dest.mkdir()
    for name in RUNTIME_PACKAGES:
        src = site / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dest / name)
    return dest


def stack(b: dict, url: str, stage: str) -> dict:
    """One revision's resources and demo data on the shared moto server, under its own stage
    (``test`` or ``local``: the stages where HADIR_NOW may set the clock) so names never clash."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HADIR_", "AWS_", "POWERTOOLS_"))}
    env.update(HADIR_STAGE=stage, AWS_ENDPOINT_URL=url, AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION,
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               POWERTOOLS_METRICS_DISABLED="true", POWERTOOLS_SERVICE_NAME="hadir",
               POWERTOOLS_LOG_LEVEL="WARNING", PYTHONPATH=str(b["tree"]))
    env.update(LIVENESS)
    script = ("import json, boto3; from local.bootstrap import create_all; "
              f"c = lambda s: boto3.client(s, endpoint_url='{url}', region_name='{REGION}'); "
              f"print(json.dumps(create_all(c, '{stage}')))")
    env.update(json.loads(sh([sys.executable, "-c", script], cwd=b["tree"], env=env).strip().splitlines()[-1]))
    seed = ("from local.seed import seed\ntry:\n    from chalicelib.wiring import get_services\n"
            "except ImportError:\n    from chalicelib.services import get_services\nseed(get_services())")
    sh([sys.executable, "-c", seed], cwd=b["tree"], env={**env, "HADIR_NOW": "2026-03-02T07:00:00+08:00"})
    env.pop("PYTHONPATH")
    return {"env": env, "url": url, "stage": stage}


def isolated(b: dict, runtime: Path, env: dict, *args: str) -> dict:
    out = sh([sys.executable, "-I", "-S", str(b["tree"] / "bench" / "coldstart.py"), "--pkg", str(b["pkg"]),
              "--runtime", str(runtime), *args], env=env, cwd=b["pkg"], timeout=300)
    return json.loads(out.strip().splitlines()[-1])


def posed(plan: dict[str, str], work: Path) -> list[str]:
    """``POSE=PATH`` arguments for bench/coldstart.py, mirrored photos written under ``work``."""
    from PIL import Image, ImageOps
    args = []
    for pose, name in plan.items():
        path = FACES / POSED / name.removeprefix("mirror:")
        if name.startswith("mirror:"):
            flipped = work / f"mirror-{path.name}"
            ImageOps.mirror(Image.open(path).convert("RGB")).save(flipped, "JPEG", quality=92)
            path = flipped
        args.append(f"{pose}={path}")
    return args


def working_days(n: int) -> list[date]:
    days, d = [], date(2026, 3, 3)
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


def clear_idempotency(s: dict) -> None:
    """bench/coldstart.py sends a fixed Idempotency-Key: forget it between rounds."""
    import boto3
    ddb = boto3.client("dynamodb", endpoint_url=s["url"], region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    table = s["env"].get("HADIR_TABLE_IDEMPOTENCY") or f"hadir-{s['stage']}-idempotency"  # older trees
    for item in ddb.scan(TableName=table).get("Items", []):
        ddb.delete_item(TableName=table, Key={"id": item["id"]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", default="HEAD")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--work", type=Path, help="keep worktrees and builds here (reused when present)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="hadir-coldstart-"))
    work.mkdir(parents=True, exist_ok=True)
    enrolment, checkin = posed(ENROLMENT, work), posed(CHECKIN, work)
    rt = work / "runtime"
    if rt.exists():
        shutil.rmtree(rt)
    builds = [build(args.before, work), build(args.after, work)]
    runtime = runtime_dir(work)
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        stacks = [stack(b, f"http://{host}:{port}", stage) for b, stage in zip(builds, ("test", "local"))]
        tokens = [isolated(b, runtime, {**s["env"], "HADIR_NOW": "2026-03-02T07:00:00+08:00"}, "api-enrol",
                           "--user", AYU, "--password", PASSWORD, *enrolment)["token"]
                  for b, s in zip(builds, stacks)]
        results: list[list[dict]] = [[], []]
        for n, day in enumerate(working_days(args.runs)):
            now, captured = f"{day}T07:45:00+08:00", f"{day}T07:44:55+08:00"
            for i, (b, s) in enumerate(zip(builds, stacks)):
                clear_idempotency(s)
                r = isolated(b, runtime, {**s["env"], "HADIR_NOW": now}, "api-checkin", "--token", tokens[i],
                             "--lat", str(DENPASAR[0] + n * 1e-6), "--lon", str(DENPASAR[1]),  # never one point twice
                             "--captured-at", captured,
                             *checkin)
                if r.get("status") != 201 or r.get("decision") != "accepted":
                    raise SystemExit(f"{b['rev']}: not accepted on {day}: {r}")
                results[i].append(r)
        report = summarise(builds, results)
    finally:
        server.stop()
        if not args.work:
            for b in builds:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(b["tree"])],
                               check=False)
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))


def summarise(builds: list[dict], results: list[list[dict]]) -> dict:
    med = [{m: round(statistics.median(r[m] for r in rs), 4) for m in METRICS} for rs in results]
    return {
        "machine": machine(),
        "runs": len(results[0]),
        "before": {"rev": builds[0]["rev"], "unzipped_mb": builds[0]["unzipped_mb"], "median": med[0],
                   "server_timing_ms": [r["checkin_server_timing_ms"] for r in results[0]]},
        "after": {"rev": builds[1]["rev"], "unzipped_mb": builds[1]["unzipped_mb"], "median": med[1],
                  "server_timing_ms": [r["checkin_server_timing_ms"] for r in results[1]]},
        "after_minus_before_ms": {m: round((med[1][m] - med[0][m]) * 1000, 1) for m in METRICS},
    }


if __name__ == "__main__":
    main()
