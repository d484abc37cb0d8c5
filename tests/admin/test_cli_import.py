"""``python -m admin import FILE``: the Simpeg file through the import job (presigned upload,
start, the queue's consumer) with a progress bar, then the refused rows with their codes."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from admin import cli
from bench.simpeg import csv_bytes, rows
from tests.api.test_import_jobs import run_queue

runner = CliRunner()


@pytest.fixture
def queue_runs_between_polls(monkeypatch):
    from chalicelib.services import import_jobs
    monkeypatch.setattr(import_jobs, "SLEEP", lambda s: None)
    monkeypatch.setattr(cli, "WAIT", lambda s: run_queue())


def test_the_cli_imports_a_csv_through_the_job(api, tmp_path, queue_runs_between_polls):
    # Given a Simpeg CSV of 5 good rows and a bad one
    path = tmp_path / "simpeg.csv"
    path.write_bytes(csv_bytes(rows(5) + [{"nip": "123", "nama": "Short"}]))
    # When the operator imports it
    r = runner.invoke(cli.app, ["import", str(path), "--json", "--actor", "ops"])
    # Then the job is done, and the refused row is listed with its code
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert (out["state"], out["total"], out["done"], out["failed"]) == ("done", 6, 5, 1)
    assert [(x["row"], x["error"]["code"]) for x in out["refused"]] == [(6, "invalid_nip")]
    assert out["created_by"] == "ops"


def test_the_human_output_is_a_summary_and_a_line_per_refused_row(api, tmp_path, queue_runs_between_polls):
    path = tmp_path / "simpeg.csv"
    path.write_bytes(csv_bytes([{"nip": rows(1)[0]["nip"], "nama": "Tanpa Kantor"}]))
    r = runner.invoke(cli.app, ["import", str(path)])
    assert r.exit_code == 0, r.output
    assert "done, 1 rows, 0 saved, 1 refused" in r.stdout
    assert "row 1" in r.stdout and "invalid_employee  required" in r.stdout
