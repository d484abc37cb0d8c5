"""Work from home that shows its work (issue 15): tasks a supervisor assigns to their own staff and
the daily work report (laporan kinerja harian) an employee writes, each reviewed by the supervisor.

The rules are pure (``policy/work.py``); this module loads, decides and saves. Every change is one
item and its audit entry, conditioned on the state and version read (409 on a stale or invalid
transition); the employee is told every decision (``notices.tell_employee``). Attachments go
through presigned uploads under ``attachment-uploads/`` (expiring after a day), are checked by
their own bytes (``policy.attachments.WORK_SIGNATURES``) in a server-side copy under
``work-attachments/<nip>/`` (SSE-KMS, kept ``WORK_ATTACHMENT_DAYS``) and are read only as
short-lived presigned GETs by the employee, their supervisor chain (two levels), admins and
auditors.
"""
from __future__ import annotations

import re
import secrets
from datetime import date, timedelta

from chalicelib.adapters.auth import Principal
from chalicelib.common.errors import Forbidden, HadirError, InvalidInput, NotFound
from chalicelib.common.logs import logger
from chalicelib.common.resources import ATTACHMENT_UPLOAD_PREFIX, WORK_ATTACHMENT_PREFIX
from chalicelib.policy import attachments as files
from chalicelib.policy import work as rules
from chalicelib.services import notices, schedules
from chalicelib.services import schemas_work as ws
from chalicelib.services.enrolment import employee
from chalicelib.services.records import Attachment, Employee, TaskRecord, WorkEvent, WorkReport, utc_iso
from chalicelib.services.staff import staff_member
from chalicelib.wiring import Services

_TASK_ID = re.compile(ws.TASK_ID_PATTERN)
_NIP = re.compile(r"^\d{18}$")
MAX_RANGE_DAYS = 184
TASK_DECIDED, TASK_ASSIGNED, REPORT_DECIDED = "task_decided", "task_assigned", "report_decided"


# --- uploads ------------------------------------------------------------------------------------
def _presign(svc: Services, key_prefix: str, body: ws.WorkUploadIn) -> ws.WorkUploadOut:
    s = svc.settings
    upload_id = secrets.token_hex(16)
    post = svc.uploads.presign_document(f"{key_prefix}{upload_id}", upload_id, body.content_type,
                                        s.work_attachment_max_bytes, s.attachment_upload_ttl_s)
    expires = svc.clock.now() + timedelta(seconds=s.attachment_upload_ttl_s)
    return ws.WorkUploadOut(upload_id=upload_id, upload=ws.UploadTarget(**post), content_type=body.content_type,
                            max_bytes=s.work_attachment_max_bytes, expires_at=utc_iso(expires))


def _keep(svc: Services, raw_key: str, kept: str, upload_id: str, now: str) -> Attachment:
    """Copy the upload to ``kept`` server-side and check the copy (refused: both deleted)."""
    if svc.uploads.probe(raw_key, files.HEAD_BYTES) is None:
        raise files.attachment_missing()
    svc.uploads.keep(raw_key, kept)
    found = svc.uploads.probe(kept, files.HEAD_BYTES)
    try:
        content_type = files.check_upload(found, nonce=upload_id, max_bytes=svc.settings.work_attachment_max_bytes,
                                          signatures=files.WORK_SIGNATURES)
    except HadirError:
        svc.uploads.discard([kept, raw_key])
        raise
    assert found is not None
    return Attachment(key=kept, content_type=content_type, bytes=found.size, upload_id=upload_id, uploaded_at=now)


def _attachment_out(svc: Services, a: Attachment, name: str) -> ws.WorkAttachmentOut:
    ttl = svc.settings.attachment_url_ttl_s
    url = svc.uploads.download_url(a.key, ttl, a.content_type, f"{name}.{files.EXTENSIONS.get(a.content_type, 'bin')}")
    return ws.WorkAttachmentOut(attachment_id=a.upload_id, content_type=a.content_type, bytes=a.bytes,
                                uploaded_at=a.uploaded_at, url=url, url_expires_in=ttl)


def _task_upload_prefix(actor: Principal) -> str:
    return f"{ATTACHMENT_UPLOAD_PREFIX}{actor.username}/task/"


def prepare_task_upload(svc: Services, actor: Principal, body: ws.WorkUploadIn) -> ws.WorkUploadOut:
    """A presigned POST for a task's attachment, named by ``upload_id`` in ``POST /team/tasks``."""
    return _presign(svc, _task_upload_prefix(actor), body)


def _event(actor: Principal, action: str, now: str, comment: str | None = None) -> WorkEvent:
    return WorkEvent(action=action, by=actor.username, by_nip=actor.nip, at=now, comment=comment)


def _staff(svc: Services, nip: str, actor: Principal) -> Employee:
    """``staff_member``, a path's NIP checked first (a forged one is not found, never looked up)."""
    if not _NIP.match(nip):
        raise NotFound("No such employee", code="employee_not_found", details={"nip": nip[:20]})
    return staff_member(svc, nip, actor)


# --- tasks --------------------------------------------------------------------------------------
def assign(svc: Services, actor: Principal, body: ws.TaskIn) -> ws.TaskList:
    """One task per assignee, each the caller's own staff (admins: anyone's), all or none; each
    assignee is told."""
    nips = list(dict.fromkeys(body.assignees))
    staff = [_staff(svc, nip, actor) for nip in nips]
    if any(e.nip == actor.nip for e in staff):
        raise Forbidden("Nobody assigns a task to themselves", code="own_task")
    today = min(_local_today(svc, e) for e in staff)
    if body.due < today:
        raise InvalidInput("A task is due today or later", code="invalid_task", details={"problems": [
            {"field": "due", "code": "due_in_past", "due": body.due.isoformat(), "today": today.isoformat()}]})
    now = svc.now_iso()
    tasks = [TaskRecord(task_id=f"tk-{secrets.token_hex(10)}", nip=e.nip, supervisor_nip=e.supervisor_nip,
                        title=body.title.strip(), description=body.description.strip(), due=body.due.isoformat(),
                        events=[_event(actor, "assigned", now)], created_at=now, updated_at=now) for e in staff]
    if body.upload_id:
        tasks = _with_attachment(svc, actor, tasks, files.check_upload_id(body.upload_id), now)
    try:
        svc.records.create_tasks(tasks, actor.username, now)
    except HadirError:
        svc.uploads.discard([t.attachment.key for t in tasks if t.attachment])
        raise
    for e, t in zip(staff, tasks):
        notices.tell_employee(svc, e, TASK_ASSIGNED, t.task_id, f"New task: {t.title}"[:90],
                              {"task_id": t.task_id, "due": t.due})
    logger.info("tasks assigned", extra={"actor": actor.username, "count": len(tasks)})
    return ws.TaskList(tasks=[task_out(svc, t) for t in tasks])


def _with_attachment(svc: Services, actor: Principal, tasks: list[TaskRecord], upload_id: str,
                     now: str) -> list[TaskRecord]:
    """The upload checked and copied under each assignee's own prefix (their retention, their readers)."""
    raw = f"{_task_upload_prefix(actor)}{upload_id}"
    out, kept = [], []
    try:
        for t in tasks:
            a = _keep(svc, raw, f"{WORK_ATTACHMENT_PREFIX}{t.nip}/task/{t.task_id}/{upload_id}", upload_id, now)
            kept.append(a.key)
            out.append(t.model_copy(update={"attachment": a}))
    except HadirError:
        svc.uploads.discard(kept)
        raise
    svc.uploads.discard([raw])
    return out


def my_tasks(svc: Services, nip: str) -> ws.TaskList:
    return ws.TaskList(tasks=[task_out(svc, t) for t in svc.records.tasks_of(nip)])


def team_tasks(svc: Services, actor: Principal, q: ws.TeamTasksQuery) -> ws.TaskList:
    """Tasks due in the range: an admin's, everyone's; a supervisor's, their current staff's."""
    start = q.start or (svc.clock.now().date() - timedelta(days=31))
    end = q.end or start + timedelta(days=92)
    _check_range(start, end)
    if "admin" in actor.groups:
        found = svc.records.tasks_due(start.isoformat(), end.isoformat())
    else:
        mine = {e.nip for e in svc.records.staff_of(actor.nip or "")}
        found = [t for t in svc.records.tasks_of_supervisor(actor.nip or "", start.isoformat(), end.isoformat())
                 if t.nip in mine]
    return ws.TaskList(tasks=[task_out(svc, t) for t in found if q.status in ("all", t.status)])


def _check_range(start: date, end: date) -> None:
    if end < start or (end - start).days >= MAX_RANGE_DAYS:
        raise InvalidInput(f"from..to is at most {MAX_RANGE_DAYS} days, from before to", code="invalid_range",
                           details={"from": start.isoformat(), "to": end.isoformat(), "max_days": MAX_RANGE_DAYS})


def _task(svc: Services, nip: str, task_id: str) -> TaskRecord:
    task = svc.records.get_task(nip, task_id) if _TASK_ID.match(task_id) else None
    if task is None:
        raise NotFound("No such task", code="task_not_found", details={"task_id": task_id})
    return task


def submit_task(svc: Services, nip: str, task_id: str, body: ws.TaskSubmitIn) -> ws.TaskOut:
    """The owner hands the task in (open or returned -> submitted)."""
    task = _task(svc, nip, task_id)
    after = rules.next_task_state(task.status, rules.SUBMIT, rules.OWNER, task_id)
    now = svc.now_iso()
    note = (body.note or "").strip() or None
    owner = Principal(sub=nip, username=nip, nip=nip, groups=frozenset({"employee"}))
    new = task.model_copy(update={"status": after, "note": note, "updated_at": now,
                                  "events": [*task.events, _event(owner, "submitted", now, note)]})
    svc.records.change_task(new, task.status, "task_submitted", nip, now)
    return task_out(svc, new)


def decide_task(svc: Services, actor: Principal, nip: str, task_id: str, body: ws.WorkDecisionIn) -> ws.TaskOut:
    """The supervisor (or an admin) accepts a submitted task or returns it with a comment."""
    emp = _staff(svc, nip, actor)
    task = _task(svc, emp.nip, task_id)
    if actor.nip == task.nip:
        raise Forbidden("Nobody decides their own task", code="own_task")
    comment = rules.needs_comment(body.decision, body.comment)
    after = rules.next_task_state(task.status, body.decision, rules.SUPERVISOR, task_id)
    now = svc.now_iso()
    new = task.model_copy(update={"status": after, "updated_at": now,
                                  "events": [*task.events, _event(actor, after, now, comment)]})
    svc.records.change_task(new, task.status, f"task_{after}", actor.username, now)
    notices.tell_employee(svc, emp, TASK_DECIDED, task_id, f"Task {after}: {task.title}"[:90],
                          {"task_id": task_id, "status": after, "comment": comment})
    return task_out(svc, new)


def task_out(svc: Services, t: TaskRecord) -> ws.TaskOut:
    return ws.TaskOut(task_id=t.task_id, nip=t.nip, supervisor_nip=t.supervisor_nip, title=t.title,
                      description=t.description, due=t.due, status=t.status, note=t.note,  # type: ignore[arg-type]
                      attachment=_attachment_out(svc, t.attachment, t.task_id) if t.attachment else None,
                      events=[ws.WorkEventOut(**e.model_dump()) for e in t.events], created_at=t.created_at,
                      updated_at=t.updated_at)


# --- daily work reports -------------------------------------------------------------------------
def _local_today(svc: Services, emp: Employee) -> date:
    return svc.clock.now().astimezone(_zone(svc, emp)[1]).date()


def _zone(svc: Services, emp: Employee):
    from zoneinfo import ZoneInfo
    office = svc.records.get_office(emp.office_ids[0]) if emp.office_ids else None
    tz = office.timezone if office else "Asia/Jakarta"
    return office, ZoneInfo(tz), tz


def _day(raw: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise InvalidInput("Not a date (YYYY-MM-DD)", code="invalid_date", details={"date": raw[:20]})


def _check_window(svc: Services, emp: Employee, day: date) -> str:
    """The cut-off (office-local ISO) once ``day`` passes the report window's rules."""
    office, zone, tz = _zone(svc, emp)
    now = svc.clock.now().astimezone(zone)
    if office is not None:
        eff = schedules.effective(svc, emp, office, day)
        working, reason = eff.working, eff.reason
    else:
        status = svc.calendar.day_status(day)
        working, reason = status.working, status.reason
    cutoff = rules.parse_cutoff(svc.settings.report_cutoff)
    rules.check_report_window(day, now.date(), now, tz, cutoff, working, reason)
    return cutoff.closes(day, tz).isoformat()


def _report_upload_prefix(nip: str, day: date) -> str:
    return f"{ATTACHMENT_UPLOAD_PREFIX}{nip}/report/{day.isoformat()}/"


def prepare_report_upload(svc: Services, nip: str, raw_day: str, body: ws.WorkUploadIn) -> ws.WorkUploadOut:
    """A presigned POST for an attachment of the caller's report of ``raw_day`` (while writable)."""
    day = _day(raw_day)
    emp = employee(svc, nip)
    _check_window(svc, emp, day)
    stored = svc.records.get_report(nip, day.isoformat())
    rules.check_editable(stored.status if stored else None, day.isoformat())
    return _presign(svc, _report_upload_prefix(nip, day), body)


def put_report(svc: Services, nip: str, raw_day: str, body: ws.ReportIn) -> ws.ReportOut:
    """Write (or rewrite, while submitted or returned) the caller's report of ``raw_day``: its
    text, its own tasks, and its attachments (new uploads checked and kept; one left out dropped)."""
    day = _day(raw_day)
    emp = employee(svc, nip)
    closes = _check_window(svc, emp, day)
    stored = svc.records.get_report(nip, day.isoformat())
    rules.check_editable(stored.status if stored else None, day.isoformat())
    task_ids = list(dict.fromkeys(body.task_ids))
    unknown = [t for t in task_ids if not _TASK_ID.match(t) or svc.records.get_task(nip, t) is None]
    if unknown:
        raise InvalidInput("These are not tasks of yours", code="unknown_task", details={"task_ids": unknown[:20]})
    now = svc.now_iso()
    attachments, added = _report_attachments(svc, nip, day, body.attachments, stored, now)
    owner = Principal(sub=nip, username=nip, nip=nip, groups=frozenset({"employee"}))
    report = WorkReport(
        nip=nip, date=day.isoformat(), supervisor_nip=emp.supervisor_nip, text=body.text.strip(), task_ids=task_ids,
        attachments=attachments, status=rules.SUBMITTED, created_at=stored.created_at if stored else now,
        updated_at=now, version=stored.version if stored else None,
        events=[*(stored.events if stored else []), _event(owner, "submitted", now)])
    try:
        svc.records.save_report(report, stored.status if stored else None,
                                "report_resubmitted" if stored else "report_submitted", nip, now)
    except HadirError:
        svc.uploads.discard([a.key for a in added])
        raise
    svc.uploads.discard([f"{_report_upload_prefix(nip, day)}{a.upload_id}" for a in added])
    logger.info("work report written", extra={"nip": nip, "date": day.isoformat(), "attachments": len(attachments)})
    return report_out(svc, report, closes)


def _report_attachments(svc: Services, nip: str, day: date, wanted: list[str], stored: WorkReport | None,
                        now: str) -> tuple[list[Attachment], list[Attachment]]:
    """The report's attachments (kept ones by id, new uploads checked and copied) and the new ones."""
    have = {a.upload_id: a for a in (stored.attachments if stored else [])}
    out: list[Attachment] = []
    added: list[Attachment] = []
    try:
        for upload_id in dict.fromkeys(wanted):
            if upload_id in have:
                out.append(have[upload_id])
                continue
            files.check_upload_id(upload_id)
            a = _keep(svc, f"{_report_upload_prefix(nip, day)}{upload_id}",
                      f"{WORK_ATTACHMENT_PREFIX}{nip}/report/{day.isoformat()}/{upload_id}", upload_id, now)
            added.append(a)
            out.append(a)
    except HadirError:
        svc.uploads.discard([a.key for a in added])
        raise
    return out, added


def my_reports(svc: Services, nip: str, q: ws.MyReportsQuery) -> ws.ReportList:
    emp = employee(svc, nip)
    end = q.end or _local_today(svc, emp)
    start = q.start or end - timedelta(days=30)
    _check_range(start, end)
    found = svc.records.reports_of(nip, start.isoformat(), end.isoformat())
    return ws.ReportList(nip=nip, required_on=list(svc.settings.report_required_on),
                         reports=[report_out(svc, r) for r in found])


def _readable_staff(svc: Services, supervisor_nip: str) -> dict[str, Employee]:
    """A supervisor's chain: their staff and their staff's staff (those who supervise too)."""
    direct = {e.nip: e for e in svc.records.staff_of(supervisor_nip)}
    second = {e.nip: e for d in direct.values() if "supervisor" in d.roles for e in svc.records.staff_of(d.nip)}
    return {**second, **direct}


def team_reports(svc: Services, actor: Principal, q: ws.TeamReportsQuery) -> ws.TeamReports:
    """The reports of a date: an admin's, everyone's; a supervisor's, their chain's (two levels;
    they decide their direct staff's)."""
    day = q.day.isoformat()
    if "admin" in actor.groups:
        found = svc.records.reports_between(day, day)
        names: dict[str, str] = {}
    else:
        chain = _readable_staff(svc, actor.nip or "")
        heads = {actor.nip or ""} | {e.supervisor_nip for e in chain.values() if e.supervisor_nip}
        found = [r for h in sorted(heads) for r in svc.records.reports_of_supervisor(h, day, day) if r.nip in chain
                 and chain[r.nip].supervisor_nip == h]
        names = {n: e.name for n, e in chain.items()}
    return ws.TeamReports(date=day, reports=[report_out(svc, r, name=names.get(r.nip)) for r in found])


def audit_reports(svc: Services, q: ws.AuditReportsQuery) -> ws.ReportList:
    """An auditor's read of one employee's reports over a period (with short-lived links)."""
    _check_range(q.start, q.end)
    found = svc.records.reports_of(q.nip, q.start.isoformat(), q.end.isoformat())
    return ws.ReportList(nip=q.nip, required_on=list(svc.settings.report_required_on),
                         reports=[report_out(svc, r) for r in found])


def decide_report(svc: Services, actor: Principal, nip: str, raw_day: str, body: ws.WorkDecisionIn) -> ws.ReportOut:
    """The direct supervisor (or an admin) accepts a submitted report or returns it with a comment."""
    emp = _staff(svc, nip, actor)
    day = _day(raw_day).isoformat()
    report = svc.records.get_report(emp.nip, day)
    if report is None:
        raise NotFound("No report of this day", code="report_not_found", details={"nip": nip, "date": day})
    if actor.nip == report.nip:
        raise Forbidden("Nobody decides their own report", code="own_report")
    comment = rules.needs_comment(body.decision, body.comment)
    rules.check_decidable(report.status, nip, day)
    after = rules.DECISIONS[body.decision]
    now = svc.now_iso()
    new = report.model_copy(update={"status": after, "updated_at": now,
                                    "events": [*report.events, _event(actor, after, now, comment)]})
    svc.records.save_report(new, rules.SUBMITTED, f"report_{after}", actor.username, now)
    notices.tell_employee(svc, emp, REPORT_DECIDED, day, f"Work report of {day} {after}",
                          {"date": day, "status": after, "comment": comment})
    return report_out(svc, new, name=emp.name)


def report_out(svc: Services, r: WorkReport, closes: str | None = None, name: str | None = None) -> ws.ReportOut:
    return ws.ReportOut(nip=r.nip, name=name, date=r.date, status=r.status, text=r.text,  # type: ignore[arg-type]
                        task_ids=r.task_ids, events=[ws.WorkEventOut(**e.model_dump()) for e in r.events],
                        attachments=[_attachment_out(svc, a, f"report-{r.date}-{i + 1}")
                                     for i, a in enumerate(r.attachments)],
                        created_at=r.created_at, updated_at=r.updated_at,
                        editable_until=closes if r.status != rules.ACCEPTED else None)
