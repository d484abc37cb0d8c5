"""The admin CLI: ``python -m admin recap 2026-03 [--json] [--local URL] [--actor NAME]``,
``python -m admin import FILE [--local URL]`` (through the import job, with a progress bar).

It runs the same use case as ``POST /admin/recaps`` (``chalicelib.services.recap.write_recap``)
through the app's own wiring (``chalicelib.wiring.get_services()``), so it writes to the stage
its environment configures: the ``HADIR_*`` settings and AWS credentials of the process, exactly
as the Lambda reads them. ``--local http://127.0.0.1:8001`` takes the environment of a running
local stack instead (``local/stack.py``: the ``local`` stage of ``.chalice/config.json`` plus the
stack's ``GET /env``: moto's endpoint, the user pool ids, a frozen ``HADIR_NOW``).
"""
from __future__ import annotations

import getpass
import json
import os
import time
import urllib.request
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from chalicelib.common.errors import HadirError

app = typer.Typer(help="Hadir operator tools (against the configured stage).", no_args_is_help=True,
                  add_completion=False)


@app.callback()
def main() -> None:
    """Hadir operator tools."""


def use_local_stack(control_url: str) -> None:
    """The environment of the local stack whose control endpoint is ``control_url``."""
    from local.stack import stage_env
    with urllib.request.urlopen(control_url.rstrip("/") + "/env", timeout=5) as r:  # noqa: S310 (loopback)
        live = json.load(r)
    env = stage_env(live["AWS_ENDPOINT_URL"], live.get("HADIR_NOW"))
    env.update({k: v for k, v in live.items() if k.isupper() and isinstance(v, str)})
    os.environ.update(env)
    from chalicelib import wiring
    from chalicelib.common.settings import reset_settings
    reset_settings()
    wiring.configure(**wiring._overrides)


@app.command()
def recap(month: str = typer.Argument(..., help="YYYY-MM"),
          as_json: bool = typer.Option(False, "--json", help="print one JSON object (the run)"),
          local: str | None = typer.Option(None, "--local", metavar="CONTROL_URL",
                                           help="use a running local stack's environment, e.g. http://127.0.0.1:8001"),
          actor: str = typer.Option(None, help="who the audit entry names (default cli:<login>)")) -> None:
    """Produce MONTH's recap now as a new write-once run (audited recap_written)."""
    from chalicelib.services.recap import write_recap
    from chalicelib.wiring import get_services
    if local:
        use_local_stack(local)
    who = actor or f"cli:{getpass.getuser()}"
    err = Console(stderr=True)
    try:
        with Progress(TextColumn(f"recap {month}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=as_json, disable=as_json) as bar:
            task = bar.add_task("employees", total=None)
            run = write_recap(get_services(), month, actor=who,
                              progress=lambda done, total: bar.update(task, completed=done, total=total))
    except HadirError as e:
        _fail(err, e, as_json)
    if as_json:
        typer.echo(run.model_dump_json(by_alias=True))
        return
    out = Console(soft_wrap=True, highlight=False)  # one line per fact, greppable
    out.print(f"run [bold]{run.run_id}[/bold]  {run.start}..{run.through}  {run.employees} employees, "
              f"{run.units} units, sequence {run.sequence}")
    for f in run.files:
        out.print(f"  {f.key}  {f.bytes} B  sha256 {f.sha256}")
    out.print(f"manifest sha256 {run.manifest_sha256}")
    out.print(f"previous manifest sha256 {run.previous_manifest_sha256 or '(none: first of the chain)'}")


def _fail(err: Console, e: HadirError, as_json: bool) -> NoReturn:
    """A refusal as the API gives it: its code and message on stderr (and as JSON on stdout with
    ``--json``); exit status 2."""
    err.print(f"[red]{e.code}[/red]: {e.message}")
    if as_json:
        typer.echo(json.dumps({"error": e.code, "message": e.message, "details": e.details}))
    raise typer.Exit(2) from None


@app.command()
def roster(unit: str = typer.Argument(..., help="the unit (unit_kerja) as imported"),
           first: str = typer.Argument(..., help="YYYY-MM-DD"),
           through: str = typer.Argument(..., help="YYYY-MM-DD, inclusive"),
           max_share: float = typer.Option(0.3, help="most of the headcount in the office a day"),
           min_share: float = typer.Option(0.0, help="fewest of the headcount in the office a day"),
           as_json: bool = typer.Option(False, "--json", help="print one JSON object (the roster)"),
           publish: bool = typer.Option(False, "--publish", help="publish it (POST /admin/rosters/publish): "
                                        "FIRST..THROUGH within one month; audited, members told"),
           replaces: int | None = typer.Option(None, "--replaces", help="with --publish: the version it replaces"),
           local: str | None = typer.Option(None, "--local", metavar="CONTROL_URL",
                                            help="use a running local stack's environment")) -> None:
    """The WFO/WFH roster of UNIT from FIRST through THROUGH (the use case of POST /admin/rosters,
    as an admin; a proposal, nothing is written), or with --publish the published roster."""
    from pydantic import ValidationError

    from chalicelib.adapters.auth import Principal
    from chalicelib.services.rosters import generate
    from chalicelib.services.rosters import publish as publish_roster
    from chalicelib.services.schemas import RosterPublishRequest, RosterRequest
    from chalicelib.wiring import get_services
    if local:
        use_local_stack(local)
    err = Console(stderr=True)
    try:
        fields = {"unit": unit, "first": first, "through": through, "max_share": max_share, "min_share": min_share}
        admin = Principal("cli", f"cli:{getpass.getuser()}", None, frozenset({"admin"}))
        if publish:
            out = publish_roster(get_services(), RosterPublishRequest.model_validate(
                {**fields, "replaces": replaces}, strict=False), admin)
        else:
            out = generate(get_services(), RosterRequest.model_validate(fields, strict=False), admin)
    except ValidationError as e:
        err.print(f"[red]invalid_roster[/red]: {e.errors()[0]['msg']}")
        raise typer.Exit(2) from None
    except HadirError as e:
        _fail(err, e, as_json)
    if as_json:
        typer.echo(out.model_dump_json())
        return
    con = Console(soft_wrap=True, highlight=False)
    con.print(f"{out.unit}: {len(out.days)} days, {out.headcount} staff, {out.lo}..{out.hi} in the office a day, "
              f"rotation {out.rotation}")
    if out.published:
        con.print(f"published {out.roster_id} version {out.version} by {out.published_by}, {out.notified} notices")
    letter = {"WFO": "O", "WFH": "h", "leave": "c", "official_travel": "d", "off": "-"}
    for row in out.staff:
        con.print(f"{row.nip}  {''.join(letter[s] for s in row.days)}  {row.office_days:>2} office days  "
                  f"{row.group}  {row.name}")


WAIT = time.sleep  # between progress polls (tests run the queue instead)


@app.command(name="import")
def import_file(path: str = typer.Argument(..., metavar="FILE", help="a Simpeg CSV (or a JSON list of rows)"),
                as_json: bool = typer.Option(False, "--json", help="print one JSON object (the job's status)"),
                local: str | None = typer.Option(None, "--local", metavar="CONTROL_URL",
                                                 help="use a running local stack's environment (and drain its queue)"),
                actor: str = typer.Option(None, help="who the audit entries name (default cli:<login>)"),
                poll_s: float = typer.Option(1.0, help="seconds between progress polls")) -> None:
    """Import employees through the import job (POST /admin/imports, the presigned upload, .../start),
    with a progress bar until the job is done; then the refused rows with their codes."""
    from chalicelib.services import import_jobs
    from chalicelib.services.schemas import ImportIn
    from chalicelib.wiring import get_services
    if local:
        use_local_stack(local)
    err = Console(stderr=True)
    ctype = "application/json" if path.lower().endswith(".json") else "text/csv"
    try:
        svc = get_services()
        job = import_jobs.create(svc, ImportIn(content_type=ctype), actor=actor or f"cli:{getpass.getuser()}")
        _post_file(job.upload.url, job.upload.fields, path, ctype)
        status = import_jobs.start(svc, job.import_id)
        with Progress(TextColumn(f"import {job.import_id[:8]}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[state]}"), TimeElapsedColumn(), console=err,
                      transient=as_json, disable=as_json) as bar:
            task = bar.add_task("rows", total=None, state=status.state)
            while status.state not in ("done", "failed"):
                if local:
                    _drain(local)
                WAIT(poll_s)
                status = import_jobs.status(svc, job.import_id, 0, 1)
                bar.update(task, completed=status.done + status.failed, total=status.total, state=status.state)
    except HadirError as e:
        _fail(err, e, as_json)
    _report(svc, status, as_json)


def _post_file(url: str, fields: dict[str, str], path: str, ctype: str) -> None:
    import requests
    with open(path, "rb") as f:
        r = requests.post(url, data=fields, files={"file": (os.path.basename(path), f, ctype)}, timeout=300)
    if r.status_code >= 300:
        raise HadirError("The upload was refused", code="upload_refused", details={"status": r.status_code})


def _drain(control_url: str) -> None:
    req = urllib.request.Request(control_url.rstrip("/") + "/drain", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=600):  # noqa: S310 (loopback)
        pass


def _report(svc, status, as_json: bool) -> None:
    from chalicelib.services import import_jobs
    refused, after = [], 0
    while True:  # every refused row, page by page
        page = import_jobs.status(svc, status.import_id, after, 1000)
        refused += [r for r in page.rows if not r.ok]
        if page.next_after is None:
            break
        after = page.next_after
    if as_json:
        typer.echo(json.dumps({**status.model_dump(mode="json", exclude={"rows", "next_after"}),
                               "refused": [r.model_dump(mode="json") for r in refused]}))
        return
    out = Console(soft_wrap=True, highlight=False)
    out.print(f"import {status.import_id}: {status.state}, {status.total} rows, {status.done} saved, "
              f"{status.failed} refused")
    if status.error:
        out.print(f"  {status.error.code}: {status.error.message} {json.dumps(status.error.details)}")
    for r in refused:
        codes = [p.get("code") for p in (r.error.details.get("problems") or [])] if r.error else []
        out.print(f"  row {r.row}  {r.nip or '-'}  {r.error.code if r.error else '?'}  {' '.join(map(str, codes))}")
    if status.state != "done":
        raise typer.Exit(2)
