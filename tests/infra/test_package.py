"""The Lambda package: built by the one command, within Lambda's limits, and working on its own.

Given `bash scripts/package.sh`, when its zip is unpacked into an empty folder and run by a fresh
Python 3.12 that sees only that folder and the runtime's boto3 (as Lambda does), then it enrols
three real photos, stores the template KMS-sealed in DynamoDB (moto server), reads it back and
verifies a fourth photo of the same person, and refuses another person's photo.
"""
from __future__ import annotations

import json
import logging
import os
import pathlib
import shutil
import subprocess
import sys
import time
import zipfile

import pytest

from tests.infra.conftest import REGION, ROOT, built_once, clean_env

pytestmark = pytest.mark.slow

LIMIT = 250 * 2**20
GOAL = 200 * 2**20
FACES = pathlib.Path(os.environ.get("HADIR_FACES_DIR", ROOT.parent / "shared" / "faces" / "dev"))
# (identity, enrolment photos, probe) tried in order; impostor from another identity.
CANDIDATES = [("deepface__angelina", ["1.jpg", "2.jpg", "3.jpg"], "4.jpg"),
              ("face_recognition__obama", ["1.jpg", "2.jpg", "3.jpg"], "4.jpg"),
              ("Megawati_Sukarnoputri", ["1.jpg", "2.jpg", "3.jpg"], "4.jpg")]
IMPOSTOR = "deepface__Matt_Damon/1.jpg"
# Lambda's python3.12 runtime provides these; everything else must come from the zip.
RUNTIME_PACKAGES = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"]
REPORT = ROOT / "infra" / "dist" / "coldstart.json"
NOW = "2026-03-03T07:45:00+08:00"  # a Tuesday, 07:45 WITA: inside Denpasar's check-in window
AYU = "199001152015032001"  # local/seed.py: an employee of kantor-denpasar
DENPASAR = (-8.67052, 115.21263)  # 4 m from the office's centre


@pytest.fixture(scope="session")
def package(tmp_path_factory) -> dict:
    """`bash scripts/package.sh` once per test run (shared by xdist workers)."""
    with built_once(tmp_path_factory, "package") as (work, build):
        report_file = work / "report.json"
        if build:
            out = work / "hadir-lambda.zip"
            proc = subprocess.run(
                ["bash", str(ROOT / "scripts" / "package.sh"), "--out", str(out),
                 "--build-dir", str(work / "build")],
                capture_output=True, text=True, timeout=1200, env=clean_env())
            assert proc.returncode == 0, f"package.sh failed:\n{proc.stderr[-5000:]}"
            report_file.write_text(proc.stdout)
            shutil.rmtree(work / "build", ignore_errors=True)
    report = json.loads(report_file.read_text())
    print("\npackage:", json.dumps({k: v for k, v in report.items() if k != "packages"}))
    return report


@pytest.fixture(scope="session")
def unpacked(package, tmp_path_factory) -> pathlib.Path:
    dest = tmp_path_factory.mktemp("var_task")
    assert not any(dest.iterdir())
    with zipfile.ZipFile(package["zip"]) as zf:
        zf.extractall(dest)
    return dest


@pytest.fixture(scope="session")
def runtime_dir(tmp_path_factory) -> pathlib.Path:
    """boto3 and its dependencies only, copied from this environment: the runtime's own path."""
    import boto3
    site = pathlib.Path(boto3.__file__).resolve().parents[1]
    dest = tmp_path_factory.mktemp("lambda_runtime")
    for name in RUNTIME_PACKAGES:
        src = site / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dest / name)
    return dest


def test_unzipped_size_is_within_lambda_limit_and_goal(package):
    unzipped = sum(i.file_size for i in zipfile.ZipFile(package["zip"]).infolist())
    assert unzipped == package["unzipped_bytes"]
    assert unzipped <= LIMIT, f"{unzipped / 2**20:.1f} MB > 250 MB"
    assert unzipped <= GOAL, f"{unzipped / 2**20:.1f} MB > 200 MB goal"


def test_zip_holds_the_app_models_and_lambda_platform_binaries_only(package):
    names = zipfile.ZipFile(package["zip"]).namelist()
    top = {n.split("/", 1)[0] for n in names}
    for required in ("app.py", "chalice", "chalicelib", "models", "onnxruntime", "numpy", "PIL",
                     "pynamodb", "aws_lambda_powertools", "jwt", "cryptography"):
        assert required in top, required
    assert {"chalice/__init__.py", "chalice/app.py"} <= set(names)
    for model in ("blazeface-front.onnx", "dlib-resnet.onnx"):
        assert f"models/{model}" in names
    assert not top & {"boto3", "botocore", "s3transfer"}, "the runtime provides boto3"
    assert not [n for n in names if n.endswith(".pyi") or "/tests/" in n.replace("numpy/", "")
                and n.startswith("numpy/")]
    assert not [n for n in names if n.startswith(("onnxruntime/transformers/",
                                                  "onnxruntime/quantization/",
                                                  "onnxruntime/tools/", "numpy/f2py/"))]
    assert not [n for n in names if n.startswith("onnxruntime/capi/libonnxruntime.so")]


def test_shared_libraries_are_x86_64_elf(package, unpacked):
    libs = [p for p in unpacked.rglob("*.so*") if p.is_file()]
    assert libs
    for lib in libs:
        head = lib.read_bytes()[:20]
        assert head[:4] == b"\x7fELF", lib
        assert int.from_bytes(head[18:20], "little") == 0x3E, f"{lib} is not x86-64"


@pytest.fixture(scope="session")
def moto_stack():
    """A moto server on loopback with every resource of resources.py (local/bootstrap.py)."""
    import boto3
    from moto.server import ThreadedMotoServer

    from local.bootstrap import create_all

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    creds = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

    def client(service):
        return boto3.client(service, endpoint_url=url, region_name=REGION, **creds)

    stage = "test"  # the only kind of stage where HADIR_NOW may freeze the clock
    env = clean_env()
    env.update(create_all(client, stage, agency="pemkab-demo"))  # every name with the ids
    env.update(HADIR_STAGE=stage, AWS_ENDPOINT_URL=url, AWS_DEFAULT_REGION=REGION,
               AWS_REGION=REGION, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               POWERTOOLS_METRICS_DISABLED="true", POWERTOOLS_SERVICE_NAME="hadir",
               HADIR_NOW=NOW)
    seed = subprocess.run(  # the demo agency, through the app's own services (full environment)
        [sys.executable, "-c", "from local.seed import seed; "
         "from chalicelib.wiring import get_services; seed(get_services())"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert seed.returncode == 0, seed.stderr[-3000:]
    yield env
    server.stop()


def write_report(section: str, result: dict) -> None:
    """infra/dist/coldstart.json: one section per measurement (xdist workers write in turn)."""
    import fcntl
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with open(REPORT.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            report = json.loads(REPORT.read_text())
        except (OSError, ValueError):
            report = {}
        report[section] = result
        REPORT.write_text(json.dumps(report, indent=2) + "\n")


def run_isolated(unpacked, runtime_dir, env, *args) -> tuple[dict, float]:
    """`python -I -S`: no site-packages, no PYTHONPATH, no current directory; the script puts the
    unpacked zip and the runtime's boto3 folder on sys.path, nothing else."""
    cmd = [sys.executable, "-I", "-S", str(ROOT / "bench" / "coldstart.py"),
           "--pkg", str(unpacked), "--runtime", str(runtime_dir), *args]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300,
                          cwd=unpacked)
    wall = time.perf_counter() - t
    assert proc.returncode == 0, f"{' '.join(args[:1])} failed:\n{proc.stdout}\n{proc.stderr[-6000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def test_unpacked_zip_enrols_and_verifies_real_faces_in_isolation(unpacked, runtime_dir,
                                                                    moto_stack):
    if not FACES.is_dir():
        pytest.skip(f"face photos not found at {FACES} (set HADIR_FACES_DIR)")
    chosen, failures = None, []
    for nip, (ident, enrol, probe) in enumerate(CANDIDATES, start=199001010001):
        photos = [FACES / ident / f for f in enrol + [probe]]
        if not all(p.is_file() for p in photos):
            continue
        try:
            run_isolated(unpacked, runtime_dir, moto_stack, "enrol", "--nip", str(nip),
                         *map(str, photos[:3]))
        except AssertionError as exc:
            failures.append(str(exc)[-600:])
            continue
        chosen = (str(nip), photos[3])
        break
    assert chosen, "no candidate could be enrolled:\n" + "\n".join(failures)
    nip, probe = chosen
    result, wall = run_isolated(unpacked, runtime_dir, moto_stack, "verify", "--nip", nip,
                                "--impostor", str(FACES / IMPOSTOR), str(probe))
    result["process_wall_s"] = round(wall, 3)
    write_report("engine_verify", result)
    print("\ncoldstart:", json.dumps(result))
    assert result["decision"] == "match", result
    assert result["impostor_decision"] == "no_match", result
    assert result["numpy_from"].startswith(str(unpacked))
    assert result["boto3_from"].startswith(str(runtime_dir))
    assert result["modules_outside_pkg_runtime_stdlib"] == []
    # cold_start_s is reported (infra/dist/coldstart.json), not asserted against a time: timing
    # belongs to the benchmarks (bench/face_cold.py, bench/RESULTS.md) with their machine.
    assert result["cold_start_s"] > 0, result


def _plan(tmp_path, plan: dict[str, str]) -> list[str]:
    """POSE=PATH arguments for bench/coldstart.py (mirrored photos written to tmp, never the repo)."""
    from tests.faces import posed
    out = []
    for pose, spec in plan.items():
        path = tmp_path / f"{pose}.jpg"
        path.write_bytes(posed(spec))
        out.append(f"{pose}={path}")
    return out


def test_the_packaged_handler_checks_in_through_api_gateway_events(unpacked, runtime_dir,
                                                                  moto_stack, tmp_path):
    """Sign in, enrol and check in through `app.app(event, context)`, the Lambda entry point,
    following the liveness challenges with real photos chosen by pose (tests/faces.py)."""
    if not FACES.is_dir():
        pytest.skip(f"face photos not found at {FACES} (set HADIR_FACES_DIR)")
    from local.seed import PASSWORD
    from tests.faces import POSED_CHECKIN, POSED_ENROLMENT

    # (the enrolment's approval is the review queue's test: this one times a check-in through the handler)
    env = {**moto_stack, "HADIR_LIVENESS_DIRECTIONS": "left,right", "HADIR_ENROLMENT_APPROVAL": "false"}
    (tmp_path / "enrol").mkdir()
    (tmp_path / "checkin").mkdir()
    out, _ = run_isolated(unpacked, runtime_dir, env, "api-enrol", "--user", AYU, "--password", PASSWORD,
                          *_plan(tmp_path / "enrol", POSED_ENROLMENT))
    result, wall = run_isolated(unpacked, runtime_dir, env, "api-checkin", "--token", out["token"],
                                "--lat", str(DENPASAR[0]), "--lon", str(DENPASAR[1]),
                                "--captured-at", "2026-03-03T07:44:55+08:00",
                                *_plan(tmp_path / "checkin", POSED_CHECKIN))
    result["process_wall_s"] = round(wall, 3)
    print("\napi coldstart:", json.dumps(result))
    write_report("api_checkin", result)
    assert result["status"] == 201 and result["decision"] == "accepted", result
    assert result["idempotent_replay_same_id"], result


def run_package(tmp_path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts" / "package.sh"), "--out",
                           str(tmp_path / "out.zip"), "--build-dir", str(tmp_path / "build"),
                           "--no-compile", *args],
                          capture_output=True, text=True, timeout=600, env=clean_env())


def test_package_fails_when_a_dependency_cannot_be_installed(tmp_path):
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("haversine==2.9.0\nnumpy==0.0.0\n")  # no such release: nothing to install
    proc = run_package(tmp_path, "--requirements", str(reqs))
    assert proc.returncode != 0
    assert "package FAILED" in proc.stderr and "numpy" in proc.stderr
    assert not (tmp_path / "out.zip").exists()


def test_package_fails_over_the_size_limit(tmp_path):
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("haversine==2.9.0\n")
    proc = run_package(tmp_path, "--requirements", str(reqs), "--limit-mb", "1")  # models alone: ~35 MB
    assert proc.returncode != 0
    assert "package FAILED: unzipped" in proc.stderr and "> 1 MB limit" in proc.stderr
    assert not (tmp_path / "out.zip").exists()


def test_the_analytics_package_pins_what_the_api_pins_and_adds_pyarrow():
    """requirements-analytics.txt: requirements.txt's pins (onnxruntime left out) plus pyarrow,
    pinned as in requirements-dev.txt (the tests write the same files the function does)."""
    def pins(name):
        return {l.split("==")[0].lower(): l for l in (ROOT / name).read_text().splitlines()
                if l and not l.startswith(("#", "-r"))}
    api, analytics, dev = pins("requirements.txt"), pins("requirements-analytics.txt"), pins("requirements-dev.txt")
    assert set(api) - set(analytics) == {"onnxruntime"}
    assert all(analytics[k] == v for k, v in api.items() if k in analytics)
    assert set(analytics) - set(api) == {"pyarrow"} and analytics["pyarrow"] == dev["pyarrow"]
    assert "duckdb" in dev and "duckdb" not in analytics


# --- the analytics function's own package (pyarrow; no face engine) -------------------------------
ANALYTICS_RUN = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import analytics, pyarrow
out = analytics.handler({"job": "recap", "month": "2026-03", "actor": "ci"}, None)
print(json.dumps({"out": out, "pyarrow_from": pyarrow.__file__,
                  "onnxruntime": "onnxruntime" in sys.modules}))
"""


@pytest.fixture(scope="session")
def analytics_unpacked(tmp_path_factory) -> tuple[pathlib.Path, dict]:
    """`bash scripts/package.sh --function analytics` once per run, unpacked into an empty folder."""
    with built_once(tmp_path_factory, "analytics-package") as (work, build):
        out = work / "hadir-analytics.zip"
        if build:
            proc = subprocess.run(
                ["bash", str(ROOT / "scripts" / "package.sh"), "--function", "analytics", "--out", str(out),
                 "--build-dir", str(work / "build")], capture_output=True, text=True, timeout=1200, env=clean_env())
            assert proc.returncode == 0, f"package.sh --function analytics failed:\n{proc.stderr[-5000:]}"
            shutil.rmtree(work / "build", ignore_errors=True)
    dest = tmp_path_factory.mktemp("var_task_analytics")
    with zipfile.ZipFile(out) as zf:
        zf.extractall(dest)
        sizes = {"unzipped_bytes": sum(i.file_size for i in zf.infolist()), "names": zf.namelist()}
    return dest, sizes


def test_the_analytics_package_fits_lambda_and_writes_the_recap_as_parquet_on_its_own(
        analytics_unpacked, runtime_dir, moto_stack):
    # Given the analytics zip unpacked alone, with only the runtime's boto3 beside it
    unpacked, sizes = analytics_unpacked
    assert sizes["unzipped_bytes"] <= LIMIT, sizes["unzipped_bytes"]
    assert not any(n.startswith("onnxruntime/") for n in sizes["names"])
    # When its handler is invoked for March's recap, against the seeded stack
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", ANALYTICS_RUN, str(unpacked), str(runtime_dir)],
                          capture_output=True, text=True, env=moto_stack, timeout=300, cwd=unpacked)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # Then the recap is written, its Parquet by the package's own pyarrow, without the face engine
    assert "result" in result["out"], result
    names = {f["name"] for f in result["out"]["result"]["files"]}
    assert {"recap.csv", "units.csv", "manifest.json", "recap.parquet", "units.parquet"} <= names
    assert result["pyarrow_from"].startswith(str(unpacked)) and result["onnxruntime"] is False
