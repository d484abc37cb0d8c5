"""The review queue: flagged check-ins and enrolments awaiting approval, decided by the employee's
own supervisor (or an admin) with the evidence in front of them.

A flagged check-in makes its day ``pending_review`` (policy/day.py); approving it makes the day
present or late, rejecting it absent, and the employee is told. A new enrolment (when the agency
requires approval, ``HADIR_ENROLMENT_APPROVAL``) waits as ``pending_approval``, its check-ins
flagged ``enrolment_pending``; approving keeps the template, rejecting deletes it so the employee
enrols again. The photos a reviewer needs (the selfie of a flagged check-in, the enrolment photos)
are kept encrypted under ``evidence/`` until decided, at most ``HADIR_REVIEW_EVIDENCE_DAYS`` (the
bucket's lifecycle rule deletes what is left), and served as short-lived presigned URLs. Nobody
reviews their own check-ins or enrolment.

An out-of-region (or away-from-home) episode (services/pings.py) of one's staff waits too, with
its pings as evidence, until the supervisor judges it: approved = justified, rejected =
unjustified (say why). The decision is stored on the episode, audited and told to the employee;
it changes no day's status (the day is what the check-ins made it).

Review ids name what they decide, so a link is enough: ``c.<nip>.<date>.<checkin_id>``,
``e.<nip>.<enrolment_id>`` and ``w.<nip>.<date>.<episode_id>``; a forged or unknown id is
``review_not_found``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from chalicelib.adapters.auth import Principal
from chalicelib.common.errors import (
    Forbidden,
    InvalidInput,
    JsonObject,
    NotFound,
)
from chalicelib.common.logs import logger
from chalicelib.policy.day import (
    ABSENT,
    PENDING_REVIEW,
    Day,
    review_checkin,
    review_not_pending,
    reviewable,
)
from chalicelib.services import events, notices, sessions, units
from chalicelib.services import requests as staff_requests
from chalicelib.services.checkin import for_day
from chalicelib.services.enrolment import ENROLMENT_PHOTOS
from chalicelib.services.records import (
    APPROVED,
    CheckinRecord,
    DayRecord,
    Employee,
    Review,
)
from chalicelib.services.schemas import (
    FlaggedCheckin,
    ReviewDecision,
    ReviewItem,
    ReviewOut,
    ReviewQuery,
    ReviewQueue,
)
from chalicelib.services.staff import staff_member
from chalicelib.services.team_now import episode_out, episode_review_id
from chalicelib.wiring import Services

CHECKIN, ENROLMENT, EPISODE = "checkin", "enrolment", "episode"
WINDOW_DAYS = 30  # the queue's default look-back
_ID = re.compile(r"^(?:c\.(?P<nip>\d{18})\.(?P<date>\d{4}-\d{2}-\d{2})\.(?P<checkin>[0-9a-f]{32})"
                 r"|e\.(?P<enip>\d{18})\.(?P<enrolment>[0-9a-f]{32})"
                 r"|w\.(?P<wnip>\d{18})\.(?P<wdate>\d{4}-\d{2}-\d{2})\.(?P<episode>[0-9a-f]{32}))$")


def checkin_review_id(c: CheckinRecord) -> str:
    return f"c.{c.nip}.{c.local_date}.{c.checkin_id}"


def pending_review_id(d: DayRecord) -> str:
    """The review a ``pending_review`` day waits on: its flagged check-in's (whose flags come first
    in the day's reasons)."""
    return f"c.{d.nip}.{d.date}.{_waited_on(d)}"


def _waited_on(d: DayRecord) -> str:
    return str(d.day.reasons[0].get("checkin_id") or "") if d.day.reasons else ""


def enrolment_review_id(emp: Employee) -> str:
    return f"e.{emp.nip}.{emp.enrolment_id}"


def enrolment_evidence(nip: str, enrolment_id: str) -> list[str]:
    """The enrolment photos kept for approval (the enrolment's session named their uploads)."""
    return [sessions.evidence_key(k)
            for k in sessions.upload_keys(sessions.ENROLMENT, nip, enrolment_id, ENROLMENT_PHOTOS)]


@dataclass(frozen=True)
class _Target:
    kind: str
    nip: str
    local_date: str | None = None
    checkin_id: str | None = None
    enrolment_id: str | None = None
    episode_id: str | None = None


def _parse(review_id: str) -> _Target:
    m = _ID.match(review_id)
    if m is None:
        raise _not_found(review_id)
    if m["nip"]:
        return _Target(CHECKIN, m["nip"], local_date=m["date"], checkin_id=m["checkin"])
    if m["wnip"]:
        return _Target(EPISODE, m["wnip"], local_date=m["wdate"], episode_id=m["episode"])
    return _Target(ENROLMENT, m["enip"], enrolment_id=m["enrolment"])


def _not_found(review_id: str) -> NotFound:
    return NotFound("No such review", code="review_not_found", details={"review_id": review_id})


# --- the queue ------------------------------------------------------------------------------------

def queue(svc: Services, caller: Principal, q: ReviewQuery) -> ReviewQueue:
    """What waits for ``caller``: their own staff's (an admin's: everyone's but their own)."""
    end = q.end or svc.clock.now().date() + timedelta(days=1)  # covers UTC+7..+9
    start = q.start or end - timedelta(days=WINDOW_DAYS)
    if start > end or (end - start).days > 62:
        raise InvalidInput("from must be on or before to, at most 62 days apart", code="invalid_range",
                           details={"from": start.isoformat(), "to": end.isoformat()})
    staff = (units.staff_of_unit(svc.records, q.unit) if "admin" in caller.groups
             else svc.records.staff_of(caller.nip or ""))
    staff = [e for e in staff if e.nip != caller.nip]  # never one's own
    items: list[ReviewItem] = []
    for emp in staff:
        if emp.awaiting_approval:
            items.append(_enrolment_item(svc, emp))
        items.extend(_checkin_items(svc, emp, start, end))
    items.extend(_episode_items(svc, {e.nip: e for e in staff}, start, end))
    return ReviewQueue(start=start.isoformat(), end=end.isoformat(), items=items)


def _episode_items(svc: Services, staff: dict[str, Employee], start: date, end: date) -> list[ReviewItem]:
    """The undecided episodes of ``staff`` opened ``start``..``end`` (no further back than they are
    kept): one index query per date, whoever's staff."""
    first = max(start, svc.clock.now().date() - timedelta(days=svc.settings.episode_retention_days))
    items = []
    for n in range((end - first).days + 1):
        for e in svc.records.episodes_on((first + timedelta(days=n)).isoformat()):
            emp = staff.get(e.nip)
            if emp is not None and e.review is None:
                items.append(ReviewItem(review_id=episode_review_id(e), kind=EPISODE, nip=e.nip, name=emp.name,
                                        unit=emp.unit, since=e.opened_at, episode=episode_out(svc, e)))
    return items


def _checkin_items(svc: Services, emp: Employee, start: date, end: date) -> list[ReviewItem]:
    pending = [d for d in svc.records.days_between(emp.nip, start.isoformat(), end.isoformat())
               if d.day.status == PENDING_REVIEW]
    items = []
    for d in pending:
        flagged = _checkin(svc, d.nip, d.date, _waited_on(d))
        if flagged is not None:
            items.append(ReviewItem(review_id=checkin_review_id(flagged), kind=CHECKIN, nip=emp.nip,
                                    name=emp.name, unit=emp.unit, since=flagged.at,
                                    checkin=_evidence(svc, flagged)))
    return items


def _checkin(svc: Services, nip: str, local_date: str, checkin_id: str) -> CheckinRecord | None:
    return next((c for c in svc.records.checkins_between(nip, local_date, local_date)
                 if c.checkin_id == checkin_id), None)


def _evidence(svc: Services, c: CheckinRecord) -> FlaggedCheckin:
    return FlaggedCheckin(checkin_id=c.checkin_id, local_date=c.local_date, local_time=c.local_time,
                          office_id=c.office_id, work_mode=c.work_mode, late_minutes=c.late_minutes,
                          reasons=c.reasons, face=c.face, geo=c.geo, position=c.position,
                          fence=_fence(svc, c), selfie_url=_url(svc, c.evidence_key, c.at))


def _fence(svc: Services, c: CheckinRecord) -> JsonObject | None:
    """The fence the check-in was judged against: its matched site (an office or a personal site),
    else its office."""
    site_id = c.geo.site_id or c.office_id
    if (event := events.book(svc).by_site(site_id)) is not None:  # an event day's fence
        return event.document.get("geofence")
    office = svc.records.get_office(site_id)
    if office is not None:
        return office.geofence
    return next((s.geofence for s in svc.records.sites_of(c.nip) if s.site_id == site_id), None)


def _enrolment_item(svc: Services, emp: Employee) -> ReviewItem:
    since = emp.enrolled_at or ""
    photos = [u for u in (_url(svc, k, since) for k in enrolment_evidence(emp.nip, emp.enrolment_id or ""))
              if u]
    return ReviewItem(review_id=enrolment_review_id(emp), kind=ENROLMENT, nip=emp.nip, name=emp.name,
                      unit=emp.unit, since=since, photos=photos)


def _url(svc: Services, key: str | None, since: str) -> str | None:
    """A short-lived link while the evidence may be kept (the lifecycle rule deletes it after)."""
    if not key or not since:
        return None
    kept_until = datetime.fromisoformat(since) + timedelta(days=svc.settings.review_evidence_days)
    if svc.clock.now() >= kept_until:
        return None
    return svc.uploads.download_url(key, svc.settings.evidence_url_ttl_s)


# --- decisions ------------------------------------------------------------------------------------

def decide(svc: Services, caller: Principal, review_id: str, body: ReviewDecision) -> ReviewOut:
    target = _parse(review_id)
    if caller.nip == target.nip:
        raise Forbidden("Nobody reviews their own check-ins, enrolment or whereabouts", code="own_review")
    emp = staff_member(svc, target.nip, caller)
    if body.decision == "reject" and not (body.comment or "").strip():
        raise InvalidInput("Say why when rejecting", code="comment_required", details={"field": "comment"})
    review = Review(review_id=review_id, kind=target.kind, nip=emp.nip, reviewer=caller.username,
                    decision=APPROVED if body.decision == "approve" else "rejected", at=svc.now_iso(),
                    comment=(body.comment or "").strip() or None,
                    local_date=target.local_date or svc.now_iso()[:10], checkin_id=target.checkin_id)
    decide_kind = {CHECKIN: _decide_checkin, ENROLMENT: _decide_enrolment, EPISODE: _decide_episode}[target.kind]
    out = decide_kind(svc, emp, target, review)
    logger.info("review decided", extra={"review_id": review_id, "kind": review.kind,
                                         "decision": review.decision, "actor": caller.username})
    notices.tell_employee(svc, emp, "review_decided", review_id, _told(target, review.decision),
                          {"decision": review.decision, "comment": review.comment, "day_status": out.day_status,
                           **({"kind": EPISODE, "episode_id": target.episode_id} if target.kind == EPISODE else {})})
    return out


def _told(t: _Target, decision: str) -> str:
    if t.kind == EPISODE:
        judged = "accepted as justified" if decision == APPROVED else "judged unjustified"
        return f"Your time outside the expected area on {t.local_date} was {judged}"
    what = f"check-in on {t.local_date}" if t.kind == CHECKIN else "enrolment"
    return f"Your {what} was {decision}"


def _decide_checkin(svc: Services, emp: Employee, t: _Target, review: Review) -> ReviewOut:
    assert t.local_date and t.checkin_id
    stored = svc.records.day(emp.nip, t.local_date)
    flagged = _checkin(svc, emp.nip, t.local_date, t.checkin_id)
    if flagged is None:
        raise _not_found(review.review_id)
    if stored is None or not reviewable(stored.day, t.checkin_id):
        raise review_not_pending(review.review_id, stored.day.status if stored else None)
    day = review_checkin(stored.day, for_day(flagged), review.review_id, review.decision == APPROVED,
                         review.reviewer, review.comment)
    if day.status == ABSENT:
        day = _covered(svc, emp.nip, t.local_date, day)
    svc.records.review_checkin(review, stored.model_copy(update={"day": day}), svc.now_iso())
    if flagged.evidence_key:
        svc.uploads.discard([flagged.evidence_key])
    return ReviewOut(**_out(review), day_status=day.status, reasons=list(day.reasons))


def _covered(svc: Services, nip: str, local_date: str, day: Day) -> Day:
    """A rejected check-in's day: the status of an approved request covering the date (one approved
    that morning, before the check-in, wrote no day), else absent."""
    req = staff_requests.covering(svc, nip, local_date)
    return staff_requests.apply_approved(day, day.office_id or "", req) if req else day


def _decide_enrolment(svc: Services, emp: Employee, t: _Target, review: Review) -> ReviewOut:
    assert t.enrolment_id
    if emp.enrolment_id != t.enrolment_id:
        raise _not_found(review.review_id)
    if not emp.awaiting_approval:
        raise review_not_pending(review.review_id, emp.enrolment_status)
    svc.records.decide_enrolment(review, t.enrolment_id, svc.now_iso())
    svc.uploads.discard(enrolment_evidence(emp.nip, t.enrolment_id))
    return ReviewOut(**_out(review))


def _decide_episode(svc: Services, emp: Employee, t: _Target, review: Review) -> ReviewOut:
    assert t.local_date and t.episode_id
    episode = svc.records.episode(emp.nip, t.local_date, t.episode_id)
    if episode is None:
        raise _not_found(review.review_id)
    if episode.review is not None:
        raise review_not_pending(review.review_id, episode.review.decision)
    svc.records.decide_episode(review, episode, svc.now_iso())
    return ReviewOut(**_out(review))


def _out(review: Review) -> JsonObject:
    return review.model_dump(include={"review_id", "kind", "nip", "decision", "reviewer", "at", "comment"})
