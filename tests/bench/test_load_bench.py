"""bench/load.py, tiny: 5 employees check in over HTTP on the local stack while 30 % of the API's
DynamoDB, S3, KMS and SNS calls fail (throttled, timed out, 5xx); every invariant holds against
the tables, and the absence job under faults tells each supervisor once. No timing asserted."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_load_bench_under_faults_keeps_every_invariant():
    # Given the local stack with faults at 0.3 (the job's at 0.1: a run must be able to complete)
    cmd = [sys.executable, "bench/load.py", "--employees", "5", "--absent", "2", "--fault-rate", "0.3",
           "--job-fault-rate", "0.1", "--seed", "11", "--concurrency", "5", "--in-progress-s", "3",
           "--max-seconds", "400", "--max-requests", "400"]
    # When it runs
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    # Then faults were injected and answered as retryable 503s, and every invariant holds
    assert r.returncode == 0 and out["ok"], json.dumps({k: out[k] for k in (
        "invariants", "violations", "unexpected", "other_5xx", "absence_job", "status_counts")})
    assert out["faults_api"]["calls"] > 0 and out["status_counts"].get("503", 0) >= 1
    assert out["clients"] == 5 and out["decisions"].get("accepted", 0) + out["decisions"].get("flagged", 0) == 5
    assert out["absence_job"]["completed_runs"] == 2 and out["absence_job"]["per_supervisor_max"] == 1
