"""The employee import as a job: a Simpeg file of any size, uploaded straight to S3, processed
in batches by the ``import-jobs`` queue's consumer (the function with Cognito admin rights).

1. ``create``: a presigned POST under ``imports/<id>`` (size limit, CSV or JSON), the job ``uploaded``.
2. ``start``: the file is there, of its type and size, its header readable: the job ``queued`` and
   a ``plan`` step queued. Starting again (a done, failed or stalled job) is a re-run: it
   re-queues the plan, and every row already done is skipped.
3. ``plan`` step: the file streamed once: its rows counted, cut into batches by byte range (CSV)
   or index (JSON), the supervisors it names that exist neither in it nor in the records noted;
   the job ``running`` with its total, one message per batch queued.
4. ``batch`` step: each row not yet done is validated, then written in a fixed order: the
   Cognito user, then the employee record (with its audit, one transaction), then the row's
   result (a conditional put: once). A throttle is retried with exponential back-off and full
   jitter; retries exhausted, the step fails and SQS redelivers it (nothing acknowledged, the
   done rows skipped). Once every row of the batch is recorded, the batch's results are counted
   into the job (one conditional update per batch, once: progress moves a batch at a time), and
   the last batch counted makes the job ``done``.
"""
from __future__ import annotations

import codecs
import csv
import json
import random
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Iterator, TypeVar

from chalicelib.common.errors import (
    Conflict,
    HadirError,
    InvalidInput,
    JsonObject,
    NotFound,
    TooLarge,
    Unsupported,
)
from chalicelib.common.logs import logger, metrics
from chalicelib.common.resources import IMPORT_PREFIX, USER_POOL
from chalicelib.services import admin
from chalicelib.services.records import Employee, ImportJob, utc_iso
from chalicelib.services.schemas import (
    ErrorBody,
    ImportCreated,
    ImportIn,
    ImportRow,
    ImportStatus,
    UploadTarget,
)
from chalicelib.wiring import Services

SLEEP: Callable[[float], None] = time.sleep  # the back-off's; tests replace it (no timed tests)
HEAD_BYTES = 64 * 1024
_ID = re.compile(r"^[0-9a-f]{32}$")
T = TypeVar("T")


def _key(import_id: str) -> str:
    return f"{IMPORT_PREFIX}{import_id}"


# --- the routes -----------------------------------------------------------------------------
def create(svc: Services, body: ImportIn, actor: str) -> ImportCreated:
    s, now = svc.settings, svc.now_iso()
    import_id = secrets.token_hex(16)
    post = svc.uploads.presign_document(_key(import_id), import_id, body.content_type, s.import_max_bytes,
                                        s.import_upload_ttl_s)
    svc.import_jobs.create(ImportJob(import_id=import_id, state="uploaded", actor=actor,
                                     content_type=body.content_type, created_at=now, updated_at=now))
    logger.info("import created", extra={"import_id": import_id})
    return ImportCreated(import_id=import_id, state="uploaded", upload=UploadTarget(**post),
                         content_type=body.content_type, max_bytes=s.import_max_bytes,
                         expires_at=utc_iso(svc.clock.now() + timedelta(seconds=s.import_upload_ttl_s)))


def start(svc: Services, import_id: str) -> ImportStatus:
    """Check the uploaded file (there, bound to this import, its size and type, its header) and
    queue its plan; 409 ``import_not_uploaded``, 413 ``import_too_large``, 415
    ``unsupported_import``, 422 ``invalid_csv`` / ``invalid_json``."""
    job = _job(svc, import_id)
    found = svc.uploads.probe(_key(import_id), HEAD_BYTES)
    if found is None or found.nonce != import_id:
        raise Conflict("Upload the file first (the presigned POST), then start", code="import_not_uploaded")
    if found.size > svc.settings.import_max_bytes:
        raise TooLarge("The file is larger than allowed", code="import_too_large",
                       details={"bytes": found.size, "max_bytes": svc.settings.import_max_bytes})
    if (found.content_type or "").split(";")[0].strip().lower() != job.content_type:
        raise Unsupported("The file is not of the type declared", code="unsupported_import",
                          details={"declared": job.content_type})
    _check_head(job.content_type, found.head, complete=found.size <= HEAD_BYTES)
    svc.import_jobs.update(import_id, svc.now_iso(), state="queued", expect=("uploaded", "failed"), error=None)
    svc.import_queue.send([{"import_id": import_id, "step": "plan"}])
    logger.info("import queued", extra={"import_id": import_id, "rerun": job.state not in ("uploaded", "failed")})
    return status(svc, import_id, 0, 100)


def status(svc: Services, import_id: str, after: int, limit: int) -> ImportStatus:
    """The job's state, progress and a page of its rows' results (admins share imports)."""
    job = _job(svc, import_id)
    rows = svc.import_jobs.rows(import_id, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return ImportStatus(import_id=import_id, state=job.state, created_by=job.actor, created_at=job.created_at,
                        updated_at=job.updated_at, total=job.total, done=job.done, failed=job.failed,
                        error=ErrorBody(**job.error) if job.error else None, rows=rows,
                        next_after=rows[-1].row if more and rows else None)


def _job(svc: Services, import_id: str) -> ImportJob:
    job = svc.import_jobs.get(import_id) if _ID.match(import_id) else None
    if job is None:
        raise NotFound("No such import", code="import_not_found", details={"import_id": import_id[:64]})
    return job


def _check_head(content_type: str, head: bytes, complete: bool) -> None:
    if content_type == "application/json":
        if not head.lstrip().startswith(b"["):
            raise InvalidInput("A JSON list of employees is expected", code="invalid_json")
        return
    first = head.split(b"\n", 1)[0] if (b"\n" in head or complete) else b""
    try:
        header = first.decode("utf-8-sig").strip().lower()
    except UnicodeDecodeError:
        raise InvalidInput("The CSV must be UTF-8 (save it as 'CSV UTF-8')", code="invalid_csv",
                           details={"problem": "not_utf8"}) from None
    if "nip" not in [h.strip().strip('"') for h in re.split(r"[;,]", header)]:
        raise InvalidInput("The CSV needs a header row with at least 'nip'", code="invalid_csv",
                           details={"problem": "no_header"})


# --- reading the file -----------------------------------------------------------------------
class _Lines:
    """Decoded lines of a byte stream, with the byte offset after the last line handed out (the
    csv reader pulls a line at a time: after a record, ``pos`` is where the next one starts)."""

    def __init__(self, chunks: Iterator[bytes], pos: int = 0):
        self._chunks, self.pos, self._buf = chunks, pos, b""
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._first = pos == 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        while b"\n" not in self._buf:
            chunk = next(self._chunks, None)
            if chunk is None:
                if not self._buf:
                    raise StopIteration
                line, self._buf = self._buf, b""
                return self._decode(line)
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return self._decode(line + b"\n")

    def _decode(self, line: bytes) -> str:
        at = self.pos
        self.pos += len(line)
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput("The CSV must be UTF-8 (save it as 'CSV UTF-8')", code="invalid_csv",
                               details={"byte_offset": at + exc.start, "problem": "not_utf8"}) from None
        if "\x00" in text:
            raise InvalidInput("The CSV contains NUL bytes (is it UTF-16?)", code="invalid_csv",
                               details={"problem": "nul_byte", "byte_offset": at + text.index("\x00")})
        if self._first:
            self._first = False
            text = text.removeprefix("\ufeff")
        return text


@dataclass
class _Plan:
    total: int = 0
    batches: list[JsonObject] | None = None
    header: list[str] | None = None
    delimiter: str = ","
    batch_rows: int = 0
    unknown_supervisors: list[str] | None = None


def _plan_file(svc: Services, job: ImportJob) -> _Plan:
    """One pass over the file: rows counted, batches cut, supervisors named checked."""
    size = int((job.plan or {}).get("batch_rows") or svc.settings.import_batch_rows)  # a re-run's batches: the same
    plan, batches, nips, sups = _Plan(), [], set(), set()
    if job.content_type == "application/json":
        rows = _json_rows(svc, job)
        for raw in rows:
            _note(raw, nips, sups)
        batches = [{"first_row": f, "last_row": min(f + size - 1, len(rows))} for f in range(1, len(rows) + 1, size)]
        plan.total = len(rows)
    else:
        lines = _Lines(svc.uploads.stream(_key(job.import_id)))
        sample = next(lines, "")
        plan.delimiter = ";" if sample.count(";") > sample.count(",") else ","
        plan.header = next(csv.reader([sample], delimiter=plan.delimiter), [])
        reader = csv.DictReader(lines, fieldnames=plan.header, delimiter=plan.delimiter)
        start = lines.pos
        try:
            for n, rec in enumerate(reader, start=1):
                _note({admin.CSV_ALIASES.get((k or "").strip().lower()): (v or "").strip()
                       for k, v in rec.items() if isinstance(v, str)}, nips, sups)
                if n % size == 0:
                    batches.append({"first_row": n - size + 1, "last_row": n, "start": start, "end": lines.pos})
                    start = lines.pos
                plan.total = n
        except csv.Error as exc:
            raise InvalidInput("The CSV cannot be read", code="invalid_csv",
                               details={"line": reader.line_num + 1, "problem": str(exc)[:200]}) from None
        if plan.total % size:
            batches.append({"first_row": plan.total - plan.total % size + 1, "last_row": plan.total,
                            "start": start, "end": lines.pos})
    plan.batches, plan.batch_rows = batches, size
    plan.unknown_supervisors = sorted(s for s in sups - nips if svc.records.get_employee(s) is None)
    return plan


def _note(raw: Any, nips: set[str], sups: set[str]) -> None:
    if isinstance(raw, dict):
        if isinstance(raw.get("nip"), str):
            nips.add(raw["nip"].strip())
        if isinstance(raw.get("supervisor_nip"), str) and raw["supervisor_nip"].strip():
            sups.add(raw["supervisor_nip"].strip())


def _json_rows(svc: Services, job: ImportJob) -> list[Any]:
    raw = b"".join(svc.uploads.stream(_key(job.import_id)))
    try:
        rows = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The file is not valid JSON", code="invalid_json") from None
    if not isinstance(rows, list):
        raise InvalidInput("A JSON list of employees is expected", code="invalid_json")
    return rows


def _batch_rows(svc: Services, job: ImportJob, msg: JsonObject) -> Iterator[tuple[int, Any]]:
    """(row number, the row, or the HadirError that makes it unreadable) of one batch."""
    first, last = int(msg["first_row"]), int(msg["last_row"])
    if job.content_type == "application/json":
        yield from enumerate(_json_rows(svc, job)[first - 1:last], start=first)
        return
    plan = job.plan or {}
    lines = _Lines(svc.uploads.stream(_key(job.import_id), int(msg["start"]), int(msg["end"])), int(msg["start"]))
    reader = csv.DictReader(lines, fieldnames=plan["header"], delimiter=plan["delimiter"])
    for n, rec in enumerate(reader, start=first):
        try:
            yield n, admin._csv_row(rec, reader.line_num)
        except HadirError as exc:
            yield n, exc


# --- the queue's steps ----------------------------------------------------------------------
def handle(svc: Services, msg: Any) -> None:
    """One queued step; raises (the message is redelivered) only for what a retry may cure."""
    if not isinstance(msg, dict) or not isinstance(msg.get("import_id"), str):
        logger.warning("import message dropped", extra={"reason": "malformed"})
        return
    job = svc.import_jobs.get(msg["import_id"]) if _ID.match(msg["import_id"]) else None
    if job is None:
        logger.warning("import message dropped", extra={"reason": "no_such_import"})
        return
    if msg.get("step") == "plan":
        return _plan_step(svc, job)
    if msg.get("step") == "batch" and job.plan is not None:
        return _batch_step(svc, job, msg)
    logger.warning("import message dropped", extra={"reason": "unknown_step", "import_id": job.import_id})


def _plan_step(svc: Services, job: ImportJob) -> None:
    try:
        plan = _retrying(svc, lambda: _plan_file(svc, job))
    except HadirError as exc:
        if svc.import_jobs.retryable(exc):
            raise
        svc.import_jobs.update(job.import_id, svc.now_iso(), state="failed", error=exc.to_dict(),
                               expect=("queued", "running"))
        logger.info("import failed", extra={"import_id": job.import_id, "code": exc.code})
        return
    stored = {"header": plan.header, "delimiter": plan.delimiter, "unknown_supervisors": plan.unknown_supervisors,
              "batch_rows": plan.batch_rows}
    state = "done" if job.state == "done" else "running"
    svc.import_jobs.update(job.import_id, svc.now_iso(), state=state, total=plan.total, plan=stored,
                           expect=(job.state,))
    svc.import_queue.send([{"import_id": job.import_id, "step": "batch", **b} for b in plan.batches or []])
    _finish_if_complete(svc, job.import_id)
    logger.info("import planned", extra={"import_id": job.import_id, "rows": plan.total,
                                         "batches": len(plan.batches or [])})


class _KnownUnless:
    """The supervisors an import may name: every NIP but those the plan found nowhere."""

    def __init__(self, unknown: list[str]):
        self._unknown = set(unknown)

    def __contains__(self, nip: object) -> bool:
        return nip not in self._unknown


def _batch_step(svc: Services, job: ImportJob, msg: JsonObject) -> None:
    first, last = int(msg["first_row"]), int(msg["last_row"])
    done = _retrying(svc, lambda: svc.import_jobs.done_rows(job.import_id, first, last))
    if len(done) < last - first + 1:
        _import_batch(svc, job, msg, done)
        done = _retrying(svc, lambda: svc.import_jobs.done_rows(job.import_id, first, last))  # as stored
    if len(done) < last - first + 1:
        logger.warning("import batch incomplete", extra={"import_id": job.import_id, "first_row": first,
                                                          "recorded": len(done)})
        return
    saved = sum(done.values())
    if _retrying(svc, lambda: svc.import_jobs.count_batch(job.import_id, f"{first}-{last}", saved,
                                                          len(done) - saved, svc.now_iso())):
        metrics.add_metric(name="EmployeesImported", unit="Count", value=saved)
    _finish_if_complete(svc, job.import_id)


def _import_batch(svc: Services, job: ImportJob, msg: JsonObject, done: dict[int, bool]) -> None:
    """Every row of the batch not yet recorded: imported, then its result recorded (once)."""
    last = int(msg["last_row"])
    offices = {o.office_id for o in _retrying(svc, svc.records.offices)}
    known = _KnownUnless((job.plan or {}).get("unknown_supervisors") or [])
    for n, raw in _batch_rows(svc, job, msg):
        if n in done or n > last:
            continue
        result = _import_row(svc, job, n, raw, offices, known)
        _retrying(svc, lambda: svc.import_jobs.record_row(job.import_id, result, svc.now_iso()))


def _import_row(svc: Services, job: ImportJob, n: int, raw: Any, offices: set[str],
                known: _KnownUnless) -> ImportRow:
    """Validate, then the Cognito user, then the employee record (skipped when unchanged): a
    failure between the two leaves the row unrecorded, and the redelivery writes both again."""
    nip = raw.get("nip") if isinstance(raw, dict) else None
    try:
        if isinstance(raw, HadirError):
            raise raw
        emp, password = admin._validate_row(svc, raw, offices, known)  # type: ignore[arg-type]
        _check_password(password)
        _retrying(svc, lambda: svc.directory.upsert_user(emp.nip, password or "", nip=emp.nip,
                                                         name=emp.name, groups=emp.roles))
        stored = _retrying(svc, lambda: svc.records.get_employee(emp.nip))
        if password or not _same(stored, emp):
            _retrying(svc, lambda: svc.records.put_employee(emp, now=svc.now_iso(), actor=job.actor,
                                                            password_set=bool(password)))
    except HadirError as exc:
        if svc.import_jobs.retryable(exc):
            raise
        return ImportRow(row=n, nip=nip, ok=False, error=ErrorBody(**exc.to_dict()))
    return ImportRow(row=n, nip=emp.nip, ok=True)


_DIRECTORY_FIELDS = ("name", "unit", "group", "echelon", "office_ids", "supervisor_nip", "roles", "email")


def _same(stored: Employee | None, emp: Employee) -> bool:
    return stored is not None and all(getattr(stored, f) == getattr(emp, f) for f in _DIRECTORY_FIELDS)


def _check_password(password: str | None) -> None:
    """The user pool's policy (digits and lower case), checked before Cognito is asked: a user is
    never created only to have its password refused."""
    if password and not (re.search(r"\d", password) and re.search(r"[a-z]", password)
                         and len(password) >= USER_POOL.password_min_length):
        raise InvalidInput("The row is not valid", code="invalid_employee",
                           details={"problems": [{"field": "password", "code": "weak_password"}]})


def _finish_if_complete(svc: Services, import_id: str) -> None:
    job = svc.import_jobs.get(import_id)
    if job and job.state == "running" and job.total is not None and job.done + job.failed >= job.total:
        if svc.import_jobs.update(import_id, svc.now_iso(), state="done", expect=("running",)):
            logger.info("import done", extra={"import_id": import_id, "rows_created": job.done,
                                              "rows_failed": job.failed})


# --- retries ----------------------------------------------------------------------------------
RETRIES = {"count": 0}  # retries made by this process (the benchmark reads it)


def _retrying(svc: Services, fn: Callable[[], T]) -> T:
    """``fn()``, retried on a throttle or transient failure with exponential back-off and full
    jitter (``HADIR_IMPORT_RETRIES``, ``_BACKOFF_BASE_S``, ``_BACKOFF_CAP_S``); the last
    failure raised."""
    s = svc.settings
    for attempt in range(s.import_retries + 1):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - the store decides what is retryable
            again = svc.import_jobs.retryable(exc) or getattr(exc, "code", "") == "concurrent_update"
            if attempt == s.import_retries or not again:
                raise
            RETRIES["count"] += 1
            SLEEP(random.uniform(0, min(s.import_backoff_cap_s, s.import_backoff_base_s * 2 ** attempt)))
    raise AssertionError("unreachable")

