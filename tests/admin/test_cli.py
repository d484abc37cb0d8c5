"""``python -m admin recap``: the monthly recap from the operator's shell, over moto (the month of
tests/api/test_recap.py), through the app's own wiring."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from admin.cli import app
from chalicelib.services.recap import write_recap
from chalicelib.wiring import get_services
from tests.api.helpers import AYU
from tests.api.test_recap import given_the_month, rows_of

runner = CliRunner()


def test_the_cli_writes_the_run_the_auditor_then_downloads(api, set_now):
    given_the_month(api, set_now)
    set_now("2026-04-02T09:00:00+08:00")
    # When the operator produces March's recap with --json
    r = runner.invoke(app, ["recap", "2026-03", "--json", "--actor", "ops"])
    # Then one JSON object, the run, on stdout
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["month"] == "2026-03" and out["sequence"] == 1 and out["through"] == "2026-03-31"
    assert [f["name"] for f in out["files"]] == ["recap.csv", "units.csv", "manifest.json", "recap.parquet", "units.parquet"]
    # And it is the run the auditor lists, with the figures the API computes
    listing = api.get("/audit/recaps?month=2026-03", user="auditor").json
    assert [x["run_id"] for x in listing["runs"]] == [out["run_id"]]
    urls = {f["key"].rsplit("/", 1)[-1]: f["url"] for f in listing["files"]}
    assert float(rows_of(urls["recap.csv"])[AYU]["cut_percent"]) == 3.5
    # And the audit entry names the operator
    log = api.get("/audit/log?from=2026-04-02&to=2026-04-02&actor=ops", user="auditor").json
    assert [e["action"] for e in log["entries"]] == ["recap_written"]


def test_the_human_output_names_the_run_its_files_and_the_manifest_hash(api, set_now):
    set_now("2026-04-02T09:00:00+08:00")
    first = runner.invoke(app, ["recap", "2026-03", "--json"])
    r = runner.invoke(app, ["recap", "2026-03"])
    assert r.exit_code == 0, r.output
    second = api.get("/audit/recaps?month=2026-03", user="auditor").json["runs"][-1]
    assert second["run_id"] in r.stdout and second["manifest_sha256"] in r.stdout
    assert json.loads(first.stdout)["manifest_sha256"] in r.stdout  # the previous manifest, chained
    for f in second["files"]:
        assert f["key"] in r.stdout
    assert "sequence 2" in r.stdout


def test_a_bad_or_future_month_is_refused_with_its_code_and_writes_nothing(api, set_now):
    set_now("2026-04-02T09:00:00+08:00")
    for month in ("2026-13", "2026-05"):
        r = runner.invoke(app, ["recap", month, "--json"])
        assert r.exit_code == 2
        assert json.loads(r.stdout)["error"] == "invalid_month"
    assert api.get("/audit/recaps?month=2026-05", user="auditor").status_code == 404


def test_progress_follows_every_employee_once(api, set_now):
    set_now("2026-04-02T09:00:00+08:00")
    seen: list[tuple[int, int]] = []
    run = write_recap(get_services(), "2026-03", actor="admin", progress=lambda d, t: seen.append((d, t)))
    n = run.employees
    assert seen == [(k, n) for k in range(n + 1)]


def test_local_takes_the_running_stacks_environment(monkeypatch):
    # Given a local stack's control endpoint answering GET /env
    import http.server
    import os
    import threading

    from admin.cli import use_local_stack
    from chalicelib.common.settings import get_settings, reset_settings

    live = {"AWS_ENDPOINT_URL": "http://127.0.0.1:5999", "HADIR_USER_POOL_ID": "ap-southeast-3_local",
            "HADIR_NOW": None, "web_port": 8080}

    class Env(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = json.dumps(live).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Env)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    saved = dict(os.environ)
    try:
        # When the CLI is pointed at it
        use_local_stack(f"http://127.0.0.1:{server.server_address[1]}/")
        # Then the settings are the local stage's, against the stack's moto and its user pool
        s = get_settings()
        assert s.aws_endpoint_url == "http://127.0.0.1:5999" and s.user_pool_id == "ap-southeast-3_local"
    finally:
        server.shutdown()
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
