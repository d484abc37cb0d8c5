"""bench/recap.py at 50 employees: seeds a moto server on loopback, produces the recap through the
service and reports the figures the results file quotes (last stdout line: one JSON object)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_recap_bench_runs_small_and_reports_its_figures():
    # When the bench runs with 50 employees (its own process: it sets the stage's environment)
    r = subprocess.run([sys.executable, "-m", "bench.recap", "--employees", "50"], cwd=ROOT,
                       capture_output=True, text=True, timeout=240)
    # Then the last line is one JSON object with every employee recapped over the month's 22 days
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["employees"] == 50 and out["working_days"] == 22
    assert out["seconds"] > 0 and out["peak_memory_mb"] > 0
    # And the reads do not grow per employee: the offices (two Scans: the staff's walk and their
    # schedules) and each office's staff (by_office), the approved requests once (by_status: the
    # excuses and the WFH days whose reports are required), the month's reports (by_month), each unit's
    # roster by key (50 units: 50 GetItem, and the office), the month's 50 x 22 working days by key
    # in 11 BatchGetItem of 100; no Query per employee
    ops = out["dynamodb_calls_by_operation"]
    assert ops["Scan"] == 2 and ops["Query:by_office"] == 1 and ops["Query:by_status"] == 1
    assert ops["Query:by_month"] == 1 and ops["BatchGetItem"] == 11 and ops["GetItem"] == 50 + 1
    assert "Query" not in ops and "Query:by_employee" not in ops
    # and the year's earlier months (from the December before) come from their recap runs (one
    # listing, manifest and CSV each)
    assert len(out["earlier_recaps"]) == 9 and out["s3_calls_by_operation"]["ListObjectsV2"] >= 9
    assert out["dynamodb_calls"] == sum(ops.values())
    assert out["files"]["recap.csv"] > 50 * 100 and "50/50 employees" in r.stderr
