"""Immutable exports over moto (the local stack's bucket: versioned, Object Lock): every run of a
day writes new objects and never replaces one, the manifests form a chain, GET /audit/exports
lists every run with version ids and URLs of exactly those versions."""

import hashlib
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import requests

from chalicelib.common.errors import Conflict
from tests.api.helpers import AYU, KETUT
from tests.api.test_jobs import REGION, given_ayu_checked_in, run

BUCKET = "hadir-pemkab-demo-test-exports"  # the test stage's (.chalice/config.json)
ROOT = Path(__file__).resolve().parents[2]


def two_runs_of_the_day(api, set_now):
    given_ayu_checked_in(api, set_now)
    set_now("2026-03-04T00:31:00+08:00")
    first = run("export_wita")
    set_now("2026-03-04T00:31:00+07:00")
    return first, run("export_wib")


def test_two_runs_the_same_day_write_two_runs_and_overwrite_nothing(api, set_now):
    # Given a day exported after WITA's midnight, then again after WIB's
    first, second = two_runs_of_the_day(api, set_now)
    # Then each run has its own keys, and the bucket holds exactly one version of each object
    assert first["run_id"] < second["run_id"] and first["key"] != second["key"]
    versions = boto3.client("s3", region_name=REGION).list_object_versions(
        Bucket=BUCKET, Prefix="attendance/date=2026-03-03/")
    keys = [v["Key"] for v in versions["Versions"]]
    assert len(keys) == len(set(keys)) == 6 and not versions.get("DeleteMarkers")
    # And the second run's manifest chains to the first's; the first chains to nothing before it
    assert second["previous_manifest_sha256"] == first["manifest_sha256"]
    assert first["previous_manifest_sha256"] is None


def test_the_writer_refuses_to_overwrite_an_export(api, set_now):
    from chalicelib.wiring import get_services
    first, _ = two_runs_of_the_day(api, set_now)
    # When the writer is asked to put a key that exists (a forged re-run, a bug)
    with pytest.raises(Conflict) as err:
        get_services().exports.put(first["key"], b"nip\r\n", "text/csv")
    # Then S3 refused the conditional write and the bytes are those first written
    assert err.value.code == "export_exists"
    s3 = boto3.client("s3", region_name=REGION)
    assert hashlib.sha256(s3.get_object(Bucket=BUCKET, Key=first["key"])["Body"].read()).hexdigest() \
        == first["sha256"]
    assert len(s3.list_object_versions(Bucket=BUCKET, Prefix=first["key"])["Versions"]) == 1


def test_audit_exports_lists_every_run_and_the_urls_serve_exactly_those_versions(api, set_now, tmp_path):
    first, second = two_runs_of_the_day(api, set_now)
    # When an auditor lists the day
    r = api.get("/audit/exports?date=2026-03-03", user="auditor")
    assert r.status_code == 200, r.json
    runs = r.json["runs"]
    # Then both runs, oldest first, with zone, time, sequence and their chain
    assert [(x["run_id"], x["zone"], x["sequence"]) for x in runs] == [
        (first["run_id"], "WITA", 1), (second["run_id"], "WIB", 2)]
    assert [x["manifest_sha256"] for x in runs] == [first["manifest_sha256"], second["manifest_sha256"]]
    assert runs[1]["previous_manifest_sha256"] == runs[0]["manifest_sha256"]
    assert runs[0]["created_at"].startswith("2026-03-03T16:31")
    # And every file names its version, and its URL downloads that version's exact bytes
    s3 = boto3.client("s3", region_name=REGION)
    for f in (f for x in runs for f in x["files"]):
        assert f["version_id"] and f"versionId={f['version_id']}" in f["url"]
        stored = s3.get_object(Bucket=BUCKET, Key=f["key"], VersionId=f["version_id"])["Body"].read()
        assert requests.get(f["url"], timeout=5).content == stored and len(stored) == f["bytes"]
    # And ``files`` (what the web client shows) is the latest run's
    assert [f["key"] for f in r.json["files"]] == [f["key"] for f in runs[1]["files"]]
    # And the documented offline check passes over the downloaded runs, the head as listed
    for x in runs:
        for f in x["files"]:
            path = tmp_path / x["run_id"] / f["key"].rsplit("/", 1)[-1]
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(requests.get(f["url"], timeout=5).content)
    done = subprocess.run([sys.executable, "-I", str(ROOT / "tools" / "verify_exports.py"),
                           str(tmp_path), "--head", runs[-1]["manifest_sha256"]],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: 2 runs" in done.stdout


@pytest.mark.parametrize("user", [AYU, KETUT])
def test_employees_and_supervisors_cannot_list_exports(api, set_now, user):
    two_runs_of_the_day(api, set_now)
    r = api.get("/audit/exports?date=2026-03-03", user=user)
    assert r.status_code == 403 and "runs" not in r.json


def test_the_local_exports_bucket_is_versioned_with_object_lock(aws_env):
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    lock = s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
