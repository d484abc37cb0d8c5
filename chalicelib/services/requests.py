"""Leave and permission requests: an employee asks, their supervisor (and with two approval levels,
the supervisor's own supervisor, or an admin) decides; an approval changes the days it covers.

The rules are pure (``policy/requests.py``); this module loads, decides, and saves. Approving writes
in one transaction the request, its audit entry, the assignment site of a dinas luar (kind
assignment, work mode DL, valid for the request's dates) and the stored or past working days it
covers (``policy.day.apply_request``); later days get the request's status from absence detection.
The employee is told every decision (``notices.tell_employee``).
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import date, timedelta

from chalicelib.adapters.auth import Principal
from chalicelib.common.errors import Conflict, HadirError, InvalidInput, JsonObject, NotFound
from chalicelib.common.logs import logger
from chalicelib.common.resources import ATTACHMENT_PREFIX, ATTACHMENT_UPLOAD_PREFIX
from chalicelib.policy import attachments as files
from chalicelib.policy import requests as rules
from chalicelib.policy.day import Day, apply_request, request_reason
from chalicelib.services import notices
from chalicelib.services.enrolment import employee
from chalicelib.services.queries import local_today
from chalicelib.services.records import (
    Attachment,
    DayRecord,
    Employee,
    PersonalSite,
    RequestDecision,
    RequestLedger,
    RequestRecord,
    utc_iso,
)
from chalicelib.services.schemas import (
    REQUEST_ID_PATTERN,
    AttachmentConfirmIn,
    AttachmentIn,
    AttachmentOut,
    AttachmentUploadOut,
    DecisionIn,
    DecisionOut,
    LeaveBalanceOut,
    MyRequests,
    MyRequestsQuery,
    RequestIn,
    RequestOut,
    TeamRequests,
    TeamRequestsQuery,
    UploadTarget,
)
from chalicelib.wiring import Services

_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)
DECIDED = "request_decided"  # the topic of the employee's notices


def request_rules(svc: Services) -> rules.RequestRules:
    s = svc.settings
    return rules.RequestRules(retroactive_days=s.request_retroactive_days, future_days=s.request_future_days,
                              approval_levels=s.request_approval_levels)


def _spans(requests: list[RequestRecord]) -> list[rules.Span]:
    return [rules.Span(r.request_id, r.type, r.subtype, date.fromisoformat(r.start), date.fromisoformat(r.end),
                       r.status) for r in requests]


# --- the employee ------------------------------------------------------------------------------
def submit(svc: Services, nip: str, body: RequestIn) -> RequestOut:
    """Check and store a new request. The checks read the employee's ledger first and the write is
    conditioned on it, so of two racing submissions the second is checked again against the first
    (``overlapping_request``, ``insufficient_leave_balance``, or stored if they do not clash)."""
    try:
        return _submit_once(svc, nip, body)
    except Conflict as exc:
        if exc.code != "concurrent_update":
            raise
        logger.info("request submission raced, checking again", extra={"nip": nip})
        return _submit_once(svc, nip, body)


def _submit_once(svc: Services, nip: str, body: RequestIn) -> RequestOut:
    emp = employee(svc, nip)
    subtype = rules.check_kind(body.type, body.subtype)
    policy = request_rules(svc)
    working = rules.check_dates(body.type, body.start, body.end, local_today(svc, emp), policy, svc.calendar)
    ledger = svc.records.request_ledger(nip)
    spans = _spans(_requests_since(svc, ledger, f"{body.start.year - 1}-01-01"))
    rules.check_overlap(body.type, body.start, body.end, spans)
    if body.type == rules.LEAVE and subtype == "annual":
        rules.check_balance(working, spans, svc.calendar)
    now = svc.now_iso()
    record = RequestRecord(
        request_id=f"rq-{secrets.token_hex(10)}", nip=nip, name=emp.name, type=body.type, subtype=subtype,
        start=body.start.isoformat(), end=body.end.isoformat(), reason=body.reason.strip(),
        working_days=len(working), levels_required=policy.approval_levels, created_at=now, updated_at=now,
        **_particulars(svc, nip, body))
    svc.records.create_request(record, now, ledger)
    logger.info("request submitted", extra={"nip": nip, "request_id": record.request_id, "type": body.type})
    return request_out(svc, record)


def _requests_since(svc: Services, ledger: RequestLedger, start: str) -> list[RequestRecord]:
    """The employee's requests ending on or after ``start``, with the ledger's recent ones the
    by-employee index may not list yet (it is eventually consistent) read by id."""
    found = svc.records.requests_of(ledger.nip, start)
    listed = {r.request_id for r in found}
    for request_id in ledger.recent:
        if request_id not in listed and (req := svc.records.get_request(request_id)) and req.end >= start:
            found.append(req)
    return found


def _particulars(svc: Services, nip: str, body: RequestIn) -> JsonObject:
    """What a type needs besides dates: dinas luar its destination, WFH the registered home site."""
    if body.type == rules.OFFICIAL_TRAVEL_TYPE:
        if body.destination is None:
            raise InvalidInput("A dinas luar request needs its destination geofence",
                               code="destination_required", details={"problems": [
                                   {"field": "destination", "code": "missing", "message": "required"}]})
        return {"destination": body.destination, "destination_name": body.destination_name}
    if body.type == rules.WFH:
        start, end = body.start.isoformat(), body.end.isoformat()
        homes = [s for s in svc.records.sites_of(nip) if s.kind == "home" and s.valid_on(start)
                 and s.valid_on(end)]
        if not homes:
            raise Conflict("No home site is registered for these dates: ask an admin or your supervisor",
                           code="no_home_site", details={"start": start, "end": end})
        return {"home_site_id": homes[0].site_id}
    return {"destination_name": body.destination_name} if body.type == rules.LEAVE_REGION else {}


def mine(svc: Services, nip: str, q: MyRequestsQuery) -> MyRequests:
    emp = employee(svc, nip)
    year = local_today(svc, emp).year
    listed = svc.records.requests_of(nip, q.start.isoformat() if q.start else None,
                                     q.end.isoformat() if q.end else None)
    spans = _spans(svc.records.requests_of(nip, f"{year - 1}-01-01", f"{year}-12-31"))
    balance = rules.leave_balance(spans, year, svc.calendar)
    return MyRequests(nip=nip, requests=[request_out(svc, r) for r in listed],
                      leave_balance=LeaveBalanceOut(**balance.to_dict()))


def cancel(svc: Services, nip: str, request_id: str) -> RequestOut:
    req = _own_pending(svc, nip, request_id)
    now = svc.now_iso()
    cancelled = req.model_copy(update={"status": rules.CANCELLED, "updated_at": now})
    svc.records.cancel_request(cancelled, actor=nip, now=now)
    return request_out(svc, cancelled)


def _own_pending(svc: Services, nip: str, request_id: str) -> RequestRecord:
    req = _request(svc, request_id)
    if req.nip != nip:
        raise _not_found(request_id)  # someone else's request: as if there were none
    if req.status != rules.PENDING:
        raise rules.request_not_pending(request_id, req.status)
    return req


# --- the attachment ----------------------------------------------------------------------------
def prepare_attachment(svc: Services, nip: str, request_id: str, body: AttachmentIn) -> AttachmentUploadOut:
    """A presigned POST for the document of the caller's pending request, under its own key
    (``attachment-uploads/``, expiring after a day like raw photos) bound to a fresh nonce."""
    req = _own_pending(svc, nip, request_id)
    s = svc.settings
    upload_id = secrets.token_hex(16)
    post = svc.uploads.presign_document(_upload_key(req, upload_id), upload_id, body.content_type,
                                        s.attachment_max_bytes, s.attachment_upload_ttl_s)
    expires = svc.clock.now() + timedelta(seconds=s.attachment_upload_ttl_s)
    return AttachmentUploadOut(request_id=request_id, upload_id=upload_id, upload=UploadTarget(**post),
                               content_type=body.content_type, max_bytes=s.attachment_max_bytes,
                               expires_at=utc_iso(expires))


def attach(svc: Services, nip: str, request_id: str, body: AttachmentConfirmIn) -> RequestOut:
    """Copy the uploaded document under ``attachments/`` (server-side; nobody but the service
    writes there, so what is checked is what is kept), check the copy (size, nonce, type by its
    magic bytes; refused: deleted) and record it on the request, audited
    (``request_attachment_added``). A later attachment replaces it on the request."""
    upload_id = files.check_upload_id(body.upload_id)
    req = _own_pending(svc, nip, request_id)
    key = _upload_key(req, upload_id)
    kept = f"{ATTACHMENT_PREFIX}{req.nip}/{req.request_id}/{upload_id}"
    if svc.uploads.probe(key, files.HEAD_BYTES) is None:
        raise files.attachment_missing()
    svc.uploads.keep(key, kept)
    found = svc.uploads.probe(kept, files.HEAD_BYTES)
    try:
        content_type = files.check_upload(found, nonce=upload_id, max_bytes=svc.settings.attachment_max_bytes)
    except HadirError:
        svc.uploads.discard([kept, key])
        raise
    assert found is not None
    now = svc.now_iso()
    new = req.model_copy(update={"updated_at": now, "attachment": Attachment(
        key=kept, content_type=content_type, bytes=found.size, upload_id=upload_id, uploaded_at=now)})
    try:
        svc.records.amend_request(new, "request_attachment_added", nip, now)
    except HadirError:
        svc.uploads.discard([kept])  # decided meanwhile: nothing half-written
        raise
    svc.uploads.discard([key])
    logger.info("request attachment added", extra={"nip": nip, "request_id": request_id,
                                                   "content_type": content_type, "bytes": found.size})
    return request_out(svc, new)


def _upload_key(req: RequestRecord, upload_id: str) -> str:
    return f"{ATTACHMENT_UPLOAD_PREFIX}{req.nip}/{req.request_id}/{upload_id}"


def attachment_out(svc: Services, req: RequestRecord) -> AttachmentOut | None:
    a = req.attachment
    if a is None:
        return None
    ttl = svc.settings.attachment_url_ttl_s
    url = svc.uploads.download_url(a.key, ttl, a.content_type,
                                   f"{req.request_id}.{files.EXTENSIONS.get(a.content_type, 'bin')}")
    return AttachmentOut(content_type=a.content_type, bytes=a.bytes, uploaded_at=a.uploaded_at, url=url,
                         url_expires_in=ttl)


# --- the supervisors ---------------------------------------------------------------------------
def team(svc: Services, actor: Principal, q: TeamRequestsQuery) -> TeamRequests:
    """An admin: everyone's; a supervisor: their own staff's (and, with two approval levels, their
    staff's staff's: the requests they decide at the second level)."""
    wanted = rules.REQUEST_STATES if q.status == "all" else (q.status,)
    start, end = _window(svc, q)
    if "admin" in actor.groups:  # pending: all of them (each is decided soon); decided: the window's
        found = [r for s in wanted for r in (svc.records.requests_with_status(s) if s == rules.PENDING
                                             else svc.records.requests_overlapping(s, start, end))]
    else:
        found = [r for nip in sorted(_reports(svc, actor.nip or "")) for r in svc.records.requests_of(nip)
                 if r.status in wanted and (r.status == rules.PENDING or (r.start <= end and r.end >= start))]
    found.sort(key=lambda r: (r.start, r.request_id))
    return TeamRequests(status=q.status, requests=[request_out(svc, r) for r in found])


TEAM_WINDOW = (31, 92)  # decided requests listed by default: from today - 31 days to today + 92
MAX_TEAM_WINDOW_DAYS = 366


def _window(svc: Services, q: TeamRequestsQuery) -> tuple[str, str]:
    """The dates decided requests must overlap: a read bounded by the window (an index range),
    never every request ever decided; InvalidInput ``invalid_range``."""
    today = svc.clock.now().date()
    start = q.start or today - timedelta(days=TEAM_WINDOW[0])
    end = q.end or max(start, today) + timedelta(days=TEAM_WINDOW[1])
    if start > end or (end - start).days > MAX_TEAM_WINDOW_DAYS:
        raise InvalidInput(f"from must be on or before to, at most {MAX_TEAM_WINDOW_DAYS} days apart",
                           code="invalid_range", details={"from": start.isoformat(), "to": end.isoformat(),
                                                          "max_days": MAX_TEAM_WINDOW_DAYS})
    return start.isoformat(), end.isoformat()


def _reports(svc: Services, supervisor_nip: str) -> set[str]:
    direct = {e.nip for e in svc.records.staff_of(supervisor_nip)}
    if svc.settings.request_approval_levels < 2:
        return direct
    return direct | {e.nip for nip in direct for e in svc.records.staff_of(nip)}


def decide(svc: Services, request_id: str, body: DecisionIn, actor: Principal) -> RequestOut:
    req = _request(svc, request_id)
    emp = employee(svc, req.nip)
    level = req.approvals + 1
    _check_decider(svc, emp, req, actor, level)
    now = svc.now_iso()
    verdict = "approved" if body.decision == "approve" else "rejected"
    decision = RequestDecision(level=level, decision=verdict, by=actor.username, by_nip=actor.nip, at=now,
                               comment=body.comment.strip() if body.comment else None)
    final = verdict == "rejected" or level >= req.levels_required
    new = req.model_copy(update={"status": verdict if final else rules.PENDING, "updated_at": now,
                                 "decisions": [*req.decisions, decision]})
    if verdict == "approved" and final:
        new = _approve(svc, emp, new, actor, now)
    else:
        svc.records.decide_request(new, f"request_{verdict}", actor.username, now)
    logger.info("request decided", extra={"request_id": request_id, "decision": verdict, "level": level,
                                          "actor": actor.username})
    _tell(svc, emp, new, decision, final)
    return request_out(svc, new)


def _check_decider(svc: Services, emp: Employee, req: RequestRecord, actor: Principal, level: int) -> None:
    """Forbidden (``own_request``, ``not_your_staff``, ``second_level_required``) unless ``actor``
    may decide ``req`` at ``level``; then Conflict ``request_not_pending`` if it is decided."""
    second = svc.records.get_employee(emp.supervisor_nip) if emp.supervisor_nip else None
    is_supervisor = bool(actor.nip) and emp.supervisor_nip == actor.nip
    is_second = bool(actor.nip and second and second.supervisor_nip == actor.nip
                     and req.levels_required >= 2)
    pending = req.status == rules.PENDING
    rules.check_decider(own=actor.nip == req.nip, level=level if pending else 1, is_admin="admin" in actor.groups,
                        is_supervisor=is_supervisor or (is_second and not pending), is_second_level=is_second,
                        decided_before=pending and any(d.by == actor.username for d in req.decisions))
    if not pending:
        raise rules.request_not_pending(req.request_id, req.status)


def _approve(svc: Services, emp: Employee, req: RequestRecord, actor: Principal, now: str) -> RequestRecord:
    """The final approval: the request, its dinas luar site and the days it changes, together."""
    site = None
    if req.type == rules.OFFICIAL_TRAVEL_TYPE and req.destination is not None:
        site = PersonalSite(nip=req.nip, site_id=f"dl-{req.request_id}", kind="assignment", work_mode="DL",
                            geofence=req.destination, valid_from=req.start, valid_to=req.end,
                            note=f"dinas luar, request {req.request_id}"
                                 + (f": {req.destination_name}" if req.destination_name else ""),
                            created_by=actor.username, created_at=now)
        req = req.model_copy(update={"site_id": site.site_id})
    days = changed_days(svc, emp, req, local_today(svc, emp))
    svc.records.decide_request(req, "request_approved", actor.username, now, site=site, days=days)
    return req


def changed_days(svc: Services, emp: Employee, req: RequestRecord, today: date) -> list[DayRecord]:
    """The days an approval writes: every stored day of the request up to today, and the past
    working days without a record (later days: absence detection writes the status then)."""
    start, end = date.fromisoformat(req.start), min(date.fromisoformat(req.end), today)
    if end < start:
        return []
    status = rules.day_status_of(req.type)
    office_id = emp.office_ids[0] if emp.office_ids else ""
    stored = {d.date: d for d in svc.records.days_between(req.nip, start.isoformat(), end.isoformat())}
    out = []
    for n in range((end - start).days + 1):
        d = start + timedelta(days=n)
        rec = stored.get(d.isoformat())
        if rec is None and (status is None or d >= today or not svc.calendar.is_working_day(d)):
            continue
        day = apply_approved(rec.day if rec else None, office_id, req)
        if rec is None or day != rec.day:
            out.append(DayRecord(nip=req.nip, date=d.isoformat(), day=day, name=emp.name,
                                 version=rec.version if rec else None))
    return out


def _tell(svc: Services, emp: Employee, req: RequestRecord, decision: RequestDecision, final: bool) -> None:
    kind = {"excuse": "excuse", "leave": "leave", "official_travel": "dinas luar", "wfh": "work from home",
            "leave_region": "permission to leave the region"}[req.type]
    what = (f"approved at level {decision.level}, waiting for the next level" if not final
            else decision.decision)
    notices.tell_employee(svc, emp, DECIDED, req.request_id,
                          f"Your {kind} request {req.start} to {req.end} was {what}",
                          {"status": req.status, "level": decision.level, "decision": decision.decision,
                           "by": decision.by, "comment": decision.comment, "site_id": req.site_id})


def pending_for(svc: Services, staff: Mapping[str, Employee]) -> dict[str, list[JsonObject]]:
    """Pending requests of ``staff`` per the NIP who decides next (the direct supervisor; at the
    second level, the supervisor's supervisor), for the supervisors' digest."""
    by_approver: dict[str, list[JsonObject]] = {}
    for r in svc.records.requests_with_status(rules.PENDING):
        emp = staff.get(r.nip)
        if emp is None or not emp.supervisor_nip:
            continue
        approver: str | None = emp.supervisor_nip
        if r.approvals:
            sup = svc.records.get_employee(emp.supervisor_nip)
            approver = sup.supervisor_nip if sup else None
        if approver:
            by_approver.setdefault(approver, []).append(
                {"request_id": r.request_id, "nip": r.nip, "name": r.name, "type": r.type,
                 "subtype": r.subtype, "start": r.start, "end": r.end, "level": r.approvals + 1})
    return by_approver


def approved_on(svc: Services, local_date: str) -> dict[str, RequestRecord]:
    """The approved request giving each employee's day a status on ``local_date`` (excuse, leave,
    dinas luar), by NIP, for absence detection."""
    return {r.nip: r for r in svc.records.requests_with_status(rules.APPROVED, on=local_date)
            if rules.day_status_of(r.type) is not None}


def covering(svc: Services, nip: str, local_date: str) -> RequestRecord | None:
    """The employee's approved request giving ``local_date`` a status, if any."""
    return next((r for r in svc.records.requests_of(nip, local_date, local_date)
                 if r.status == rules.APPROVED and rules.day_status_of(r.type) is not None), None)


def apply_approved(day: Day | None, office_id: str, req: RequestRecord) -> Day:
    """``day`` once the approved ``req`` covers it (policy.day.apply_request, with its reason)."""
    status = rules.day_status_of(req.type)
    return apply_request(day, office_id, req.request_id, status,
                         request_reason(req.request_id, status or "", req.type, req.subtype))


# --- helpers ---------------------------------------------------------------------------------------
def _request(svc: Services, request_id: str) -> RequestRecord:
    req = svc.records.get_request(request_id) if _REQUEST_ID.match(request_id) else None
    if req is None:
        raise _not_found(request_id)
    return req


def _not_found(request_id: str) -> NotFound:
    return NotFound("No such request", code="request_not_found", details={"request_id": request_id[:64]})


def request_out(svc: Services, r: RequestRecord) -> RequestOut:
    """The request as its employee and deciders see it; its attachment with a fresh short-lived link."""
    return RequestOut(**r.model_dump(exclude={"version", "decisions", "attachment"}),
                      day_status=rules.day_status_of(r.type), approvals=r.approvals,
                      decisions=[DecisionOut(**d.model_dump()) for d in r.decisions],
                      attachment=attachment_out(svc, r))
