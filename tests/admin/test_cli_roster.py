"""``python -m admin roster``: a unit's roster from the operator's shell (the use case of POST /admin/rosters)."""
import json

from typer.testing import CliRunner

from admin.cli import app
from tests.api.helpers import AYU

runner = CliRunner()


def test_the_cli_prints_the_roster_as_json_and_as_lines(api):
    r = runner.invoke(app, ["roster", "Bagian Umum Denpasar", "2026-11-02", "2026-11-06", "--max-share", "0.34", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["hi"] == 1 and sorted(row["office_days"] for row in out["staff"]) == [1, 2, 2]
    lines = runner.invoke(app, ["roster", "Bagian Umum Denpasar", "2026-11-02", "2026-11-06", "--max-share", "0.34"])
    assert lines.exit_code == 0 and AYU in lines.stdout and "rotation" in lines.stdout


def test_the_cli_names_an_unknown_unit_and_a_bad_period(api):
    r = runner.invoke(app, ["roster", "Tidak Ada", "2026-11-02", "2026-11-06", "--json"])
    assert r.exit_code == 2 and json.loads(r.stdout)["error"] == "unit_not_found"
    r = runner.invoke(app, ["roster", "Tidak Ada", "2026-11-06", "2026-11-02"])
    assert r.exit_code == 2
