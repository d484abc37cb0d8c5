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


def test_the_cli_publishes_and_a_second_publish_names_the_version(api):
    # When an operator publishes the week, then again without naming the version, then naming it
    first = runner.invoke(app, ["roster", "Bagian Umum Denpasar", "2026-11-02", "2026-11-06", "--publish", "--json"])
    again = runner.invoke(app, ["roster", "Bagian Umum Denpasar", "2026-11-02", "2026-11-06", "--publish", "--json"])
    named = runner.invoke(app, ["roster", "Bagian Umum Denpasar", "2026-11-02", "2026-11-06", "--publish",
                                "--replaces", "1"])
    # Then version 1, a refusal naming roster_changed, then version 2
    assert first.exit_code == 0, first.output
    assert (json.loads(first.stdout)["published"], json.loads(first.stdout)["version"]) == (True, 1)
    assert again.exit_code == 2 and json.loads(again.stdout)["error"] == "roster_changed"
    assert named.exit_code == 0 and "version 2" in named.stdout, named.output
    assert [d["status"] != "" for d in api.get("/me/roster?month=2026-11", user=AYU).json["days"]] == [True] * 5
