"""bench/roster.py: the unit of 200 over 22 days with 30 % solves, the validator finds nothing,
and the solve time is reported."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_roster_bench_reports_a_valid_roster_and_its_time():
    r = subprocess.run([sys.executable, "-m", "bench.roster"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert (out["staff"], out["days"], out["feasible"], out["violations"]) == (200, 22, True, 0)
    # the time is a figure (bench/RESULTS-roster.md, with its machine), not an assertion
    assert out["seconds"] > 0 and out["hi"] == 60
