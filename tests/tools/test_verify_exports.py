"""tools/verify_exports.py, the auditors' offline check: runs written by the export job (in
memory), downloaded through /audit/exports' URLs, verify; a tampered file, a tampered manifest, a
dropped run and a reordering each fail with what broke. The script is run as auditors would
(``python -I``: the standard library only, nothing of the project importable)."""
import json
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from chalicelib.common.clock import FixedClock
from chalicelib.common.settings import load_settings
from chalicelib.services import jobs, queries
from chalicelib.wiring import in_memory
from local.seed import seed

ROOT = Path(__file__).resolve().parents[2]
DAY, BEFORE = date(2026, 3, 3), date(2026, 3, 2)


def verify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", str(ROOT / "tools" / "verify_exports.py"), *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def svc():
    settings = load_settings({"HADIR_STAGE": "test", "HADIR_AGENCY_ID": "pemkab-demo"})
    services = in_memory(settings, clock=FixedClock(datetime.fromisoformat("2026-03-03T00:31:00+08:00")))
    seed(services)
    return services


@pytest.fixture
def runs(svc, tmp_path) -> tuple[Path, list[str], str]:
    """Given the 2nd exported once and the 3rd three times (WITA, WIB, a re-run), downloaded as an
    auditor would: one folder per run. Returns the folder, the 3rd's run ids, its head hash."""
    jobs.export_day(svc, BEFORE, zone="WITA")
    svc.clock.set(datetime.fromisoformat("2026-03-04T00:31:00+08:00"))
    jobs.export_day(svc, DAY, zone="WITA")
    svc.clock.set(datetime.fromisoformat("2026-03-04T00:31:00+07:00"))
    jobs.export_day(svc, DAY, zone="WIB")
    jobs.export_day(svc, DAY, zone="WIB")  # the same instant: still a later run id
    head = ""
    ids = []
    for day in (BEFORE, DAY):
        listing = queries.exports(svc, day)
        for run in listing.runs:
            for f in run.files:
                path = tmp_path / "runs" / run.run_id / f.key.rsplit("/", 1)[-1]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(svc.exports.fetch(f.url))
        if day == DAY:
            ids, head = [r.run_id for r in listing.runs], listing.runs[-1].manifest_sha256
    return tmp_path / "runs", ids, head


def test_untouched_runs_verify(runs):
    folder, ids, head = runs
    # When the auditor runs the documented command; then exit 0, the 4 runs across two days
    done = verify(str(folder), "--head", head)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: 4 runs" in done.stdout and "FAIL" not in done.stdout
    assert len(ids) == 3 and ids == sorted(ids)


def test_a_tampered_file_is_detected(runs):
    folder, ids, _ = runs
    # Given one row of the middle run's CSV changed
    path = folder / ids[1] / "records.csv"
    path.write_bytes(path.read_bytes().replace(b"nip", b"NIP", 1))
    # Then exit 1, naming the run and the file
    done = verify(str(folder))
    assert done.returncode == 1
    assert f"FAIL: {ids[1]}: records.csv does not match its manifest" in done.stdout


def test_a_tampered_manifest_is_detected(runs):
    folder, ids, head = runs
    # Given the first run's manifest rewritten (its row count), files untouched
    path = folder / ids[0] / "manifest.json"
    man = json.loads(path.read_bytes())
    path.write_text(json.dumps({**man, "rows": man["rows"] + 1}, indent=2, sort_keys=True))
    # Then the next run no longer chains to it
    done = verify(str(folder))
    assert done.returncode == 1 and f"FAIL: {ids[1]}: previous_manifest_sha256" in done.stdout
    # And the last run's manifest rewritten is caught by the listed head
    last = folder / ids[2] / "manifest.json"
    last.write_bytes(last.read_bytes().replace(b'"zone": "WIB"', b'"zone": "WITA"'))
    done = verify(str(folder), "--head", head)
    assert done.returncode == 1 and "the last run's manifest is not" in done.stdout


def test_a_dropped_run_is_detected(runs):
    folder, ids, _ = runs
    # Given the middle run of the 3rd left out of the folder
    shutil.rmtree(folder / ids[1])
    # Then the run after it is out of sequence and chains to a manifest not there
    done = verify(str(folder))
    assert done.returncode == 1
    assert f"FAIL: {ids[2]}: run 3 of 2026-03-03 where run 2 belongs" in done.stdout
    assert f"FAIL: {ids[2]}: previous_manifest_sha256" in done.stdout


def test_a_dropped_first_run_of_a_day_is_detected(runs):
    folder, ids, _ = runs
    shutil.rmtree(folder / ids[0])
    done = verify(str(folder))
    assert done.returncode == 1 and "where run 1 belongs" in done.stdout


def test_reordered_runs_are_detected(runs):
    folder, ids, _ = runs
    # Given the first two runs' folders swapped (their files shown under each other's run)
    (folder / ids[0]).rename(folder / "swap")
    (folder / ids[1]).rename(folder / ids[0])
    (folder / "swap").rename(folder / ids[1])
    done = verify(str(folder))
    assert done.returncode == 1
    assert f"FAIL: {ids[0]}: folder is not the manifest's run {ids[1]}" in done.stdout


def test_a_file_no_manifest_vouches_for_is_detected(runs):
    folder, ids, _ = runs
    (folder / ids[0] / "extra.csv").write_bytes(b"nip\r\n")
    done = verify(str(folder))
    assert done.returncode == 1 and "extra.csv is not in the manifest" in done.stdout


def test_an_empty_folder_does_not_verify(tmp_path):
    done = verify(str(tmp_path))
    assert done.returncode == 1 and "no manifest.json" in done.stdout


def test_a_listing_is_downloaded_then_verified(svc, tmp_path):
    # Given a saved /audit/exports listing whose URLs point at files (stand-ins for presigned URLs)
    svc.clock.set(datetime.fromisoformat("2026-03-04T00:31:00+08:00"))
    jobs.export_day(svc, DAY, zone="WITA")
    listing = queries.exports(svc, DAY).model_dump(mode="json")
    for run in listing["runs"]:
        for f in run["files"]:
            src = tmp_path / "bucket" / f["key"]
            src.parent.mkdir(parents=True, exist_ok=True)
            src.write_bytes(svc.exports.get(f["key"], f["version_id"]))
            f["url"] = src.as_uri()
    (tmp_path / "listing.json").write_text(json.dumps(listing))
    # When verified with --listing; then the run is downloaded and verifies against the listing
    done = verify(str(tmp_path / "runs"), "--listing", str(tmp_path / "listing.json"))
    assert done.returncode == 0, done.stdout
    # And a run listed but whose manifest differs from the listing fails
    listing["runs"][-1]["manifest_sha256"] = "0" * 64
    (tmp_path / "listing.json").write_text(json.dumps(listing))
    shutil.rmtree(tmp_path / "runs")
    done = verify(str(tmp_path / "runs"), "--listing", str(tmp_path / "listing.json"))
    assert done.returncode == 1 and "not the one listed" in done.stdout
