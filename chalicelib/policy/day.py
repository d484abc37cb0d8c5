"""An employee's attendance day, folded from its check-ins, with the reasons for its status.

Pure. The day is what the team view, absence detection and the export read; each status says why:

===============  ==========================================================  ==================
status           when                                                        reasons
===============  ==========================================================  ==================
present          the first accepted check-in was on time, or its supervisor   on_time (+ review_
                 approved the flagged one (``review_checkin``)                approved)
late             the same, after work start                                  late (minutes, tier)
pending_review   the first check-in was flagged and nobody has decided yet   its flag reasons
no_record        only a check-out so far (the check-in window may be open)   no_checkin
absent           absence detection found no check-in after the window        no_checkin (percent)
                 closed, or the supervisor rejected the flagged check-in     review_rejected
excused          an approved excuse (sick, important reason) covers the day  request_approved
on_leave         an approved leave (annual, sick, maternity...) covers it    request_approved
official_travel  an approved dinas luar covers it and nobody checked in      request_approved
===============  ==========================================================  ==================

Only an accepted check-in makes a day present or late. Every reason names the ``checkin_id`` it
comes from. A rejected attempt never changes the day. A late check-in after the absence mark
replaces it (the absence's reasons are kept in ``absence_replaced``). A check-out never turns a
day into anything else: it records its time, and a flagged one adds its flag reasons and marks
``out_flagged``; a check-out alone leaves an absent day absent, and absence detection still marks
a ``no_record`` day absent. A check-in on a day a request covers makes it present, late or
pending_review as any other; a flagged one keeps the request's reason, so that rejecting it gives
the day back to the request (not absent).

Approved requests (policy/requests.py) change a day through :func:`apply_request` (see there);
``request_ids`` names every request that covers the day.
"""
from __future__ import annotations

from dataclasses import MISSING, dataclass, fields, replace
from typing import Iterable

from chalicelib.common.errors import Conflict, JsonObject

PRESENT, LATE, PENDING_REVIEW, NO_RECORD, ABSENT = "present", "late", "pending_review", "no_record", "absent"
DAY_STATUSES = (PRESENT, LATE, PENDING_REVIEW, NO_RECORD, ABSENT)
ATTENDED = frozenset({PRESENT, LATE})  # an accepted check-in: never absent

Reason = JsonObject


@dataclass(frozen=True)
class Attempt:
    """The parts of one decided check-in or check-out that the day needs."""

    checkin_id: str
    kind: str  # in | out
    decision: str  # accepted | flagged | rejected
    local_time: str
    late_minutes: int = 0
    early_leave_minutes: int = 0
    tier: str | None = None
    work_mode: str | None = None
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class Day:
    status: str
    office_id: str | None = None
    reasons: tuple[Reason, ...] = ()
    first_in: str | None = None
    last_out: str | None = None
    late_minutes: int | None = None
    tier: str | None = None
    early_leave_minutes: int | None = None
    early_leave_tier: str | None = None
    work_mode: str | None = None
    checkin_ids: tuple[str, ...] = ()
    out_flagged: bool = False
    absence_replaced: tuple[Reason, ...] = ()
    review_ids: tuple[str, ...] = ()
    request_ids: tuple[str, ...] = ()

    @property
    def attended(self) -> bool:
        return self.status in ATTENDED

    @property
    def has_checkin(self) -> bool:
        return self.first_in is not None


def absent_day(office_id: str, reasons: list[Reason], day: Day | None = None) -> Day:
    """The mark absence detection writes (over a ``no_record`` day: its check-out is kept)."""
    base = day or Day(status=ABSENT, office_id=office_id)
    return replace(base, status=ABSENT, office_id=base.office_id or office_id, reasons=tuple(reasons))


def fold_day(day: Day | None, attempt: Attempt, office_id: str) -> Day | None:
    """The day after ``attempt``; None when the attempt does not count (rejected) and there is
    no day yet, else the day unchanged for a rejected attempt."""
    if attempt.decision == "rejected":
        return day
    if day is not None and day.status == ABSENT and attempt.kind == "in":
        day = replace(day, reasons=(), absence_replaced=day.reasons)
    day = day or Day(status=NO_RECORD, office_id=office_id)
    day = replace(day, office_id=day.office_id or office_id,
                  checkin_ids=(*day.checkin_ids, attempt.checkin_id))
    if attempt.kind == "in":
        return _fold_in(day, attempt)
    return _fold_out(day, attempt)


def _tagged(attempt: Attempt, codes: set[str] | None = None, effect: str | None = None) -> tuple[Reason, ...]:
    return tuple({**r, "checkin_id": attempt.checkin_id} for r in attempt.reasons
                 if (codes is None or r.get("code") in codes)
                 and (effect is None or r.get("effect") == effect))


def _fold_in(day: Day, attempt: Attempt) -> Day:
    if day.has_checkin:
        return day  # the policy rejects a second check-in; nothing to fold
    if attempt.decision == "flagged":
        # on a day a request covers, its reason stays (after the flags) for a rejecting review
        covering = tuple(r for r in day.reasons if r.get("code") == "request_approved") \
            if day.status in COVERED else ()
        status, reasons = PENDING_REVIEW, (*_tagged(attempt, effect="flag"), *covering)
    elif attempt.late_minutes:
        status, reasons = LATE, _tagged(attempt, {"late"})
    else:
        status, reasons = PRESENT, _tagged(attempt, {"on_time"})
    return replace(day, status=status, reasons=reasons, first_in=attempt.local_time,
                   late_minutes=attempt.late_minutes, tier=attempt.tier, work_mode=attempt.work_mode)


def _fold_out(day: Day, attempt: Attempt) -> Day:
    day = replace(day, last_out=attempt.local_time, early_leave_minutes=attempt.early_leave_minutes,
                  early_leave_tier=attempt.tier)
    if not day.has_checkin:
        # A check-out alone: absent (or a day a request covers) stays so; else no record yet.
        if day.status == ABSENT or day.status in COVERED:
            return day
        return replace(day, status=NO_RECORD, reasons=(
            {"code": "no_checkin", "effect": "flag", "checkin_id": attempt.checkin_id},))
    if attempt.decision == "flagged":
        return replace(day, out_flagged=True, reasons=(*day.reasons, *_tagged(attempt, effect="flag")))
    return day


# --- reviews of a flagged check-in --------------------------------------------------------------

def review_not_pending(review_id: str, status: str | None = None) -> Conflict:
    return Conflict("Nothing is waiting for this review any more", code="review_not_pending",
                    details={"review_id": review_id, **({"status": status} if status else {})})


def reviewable(day: Day | None, checkin_id: str) -> bool:
    """Whether ``checkin_id`` is the flagged check-in a ``pending_review`` day waits on."""
    return (day is not None and day.status == PENDING_REVIEW and bool(day.reasons)
            and day.reasons[0].get("checkin_id") == checkin_id)  # the check-in's flags come first


def review_checkin(day: Day, attempt: Attempt, review_id: str, approved: bool, reviewer: str,
                   comment: str | None) -> Day:
    """The day after its supervisor decided the flagged check-in ``attempt`` (see
    :func:`reviewable`). Approved: present or late as the check-in's own time says, with the flags
    that were reviewed; rejected: absent (the check-in does not count; another may still be made
    while the window is open)."""
    decided = {"review_id": review_id, "checkin_id": attempt.checkin_id, "by": reviewer,
               **({"comment": comment} if comment else {})}
    flags = sorted({str(r.get("code")) for r in day.reasons if r.get("effect") == "flag"})
    day = replace(day, review_ids=(*day.review_ids, review_id))
    if not approved:
        # the check-in does not count; an approved request covering the day gives its status then
        covering = [r for r in day.reasons if r.get("code") == "request_approved" and r.get("status")]
        rejected = {"code": "review_rejected", "effect": "reject", "flags": flags, **decided}
        return replace(day, status=covering[0]["status"] if covering else ABSENT, first_in=None,
                       late_minutes=None, tier=None, work_mode=None, reasons=(rejected, *covering[:1]))
    status, own = (LATE, "late") if attempt.late_minutes else (PRESENT, "on_time")
    time_reason = _tagged(attempt, {own}) or ({"code": own, "checkin_id": attempt.checkin_id},)
    return replace(day, status=status, reasons=(
        *time_reason, {"code": "review_approved", "effect": "info", "flags": flags, **decided}))


HOLIDAY, WEEKEND = "holiday", "weekend"


def view_status(day: Day | None, working: bool, calendar_reason: str) -> str:
    """The status a day view shows: the day's own if it has a record; else ``weekend`` or
    ``holiday`` (national, cuti bersama, agency) for a day off (``calendar_reason`` as
    policy.calendar says it), or ``no_record``: nothing yet (the window may still be open, or
    absence detection has not run)."""
    if day is not None:
        return day.status
    if not working:
        return WEEKEND if calendar_reason == WEEKEND else HOLIDAY
    return NO_RECORD


def day_to_dict(day: Day) -> JsonObject:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in day.__dict__.items()}


_DAY_DEFAULTS = {f.name: f.default for f in fields(Day) if f.default is not MISSING}


def day_from_dict(d: JsonObject) -> Day:
    """The day of its stored dict (lists as tuples, unknown keys ignored). Built as ``Day(**...)``
    would (no ``__post_init__``, every field but ``status`` defaulted) without the frozen
    ``__init__``'s setattr per field: a month's recap decodes 154,000 of them."""
    if "status" not in d:
        raise TypeError("a stored day needs its status")
    day = object.__new__(Day)
    day.__dict__.update(_DAY_DEFAULTS)
    day.__dict__.update((k, tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in _DAY_DEFAULTS
                        or k == "status")
    return day



def split_for_absence(days: Iterable[tuple[str, Day]]) -> tuple[set[str], set[str]]:
    """(attended, pending review) NIPs of a date's days, for absence detection: an accepted
    check-in (present, late) is attendance, and so is a day an approved request covers (excused,
    on_leave, official_travel); a flagged one awaits its supervisor (reported as pending, not
    absent, and not silently excused); anyone else (no day, a check-out alone, an absence already
    marked) is absent unless an approved request covers the date (services/jobs.py)."""
    attended, pending = set(), set()
    for nip, day in days:
        if day.attended or day.status in COVERED:
            attended.add(nip)
        elif day.status == PENDING_REVIEW:
            pending.add(nip)
    return attended, pending


# --- approved requests ---------------------------------------------------------------------------
EXCUSED, ON_LEAVE, OFFICIAL_TRAVEL = "excused", "on_leave", "official_travel"
REQUEST_STATUSES = (EXCUSED, ON_LEAVE, OFFICIAL_TRAVEL)
COVERED = frozenset(REQUEST_STATUSES)  # a day an approved request excuses: never absent


def request_reason(request_id: str, status: str, request_type: str, subtype: str | None) -> Reason:
    """Why a day has a request's status: the request that gave it."""
    return {"code": "request_approved", "effect": "info", "request_id": request_id, "status": status,
            "type": request_type, "subtype": subtype}


def apply_request(day: Day | None, office_id: str, request_id: str, status: str | None,
                  reason: Reason) -> Day:
    """The day once the approved request ``request_id`` covers it (``status``: what the request
    gives, None for a request without a status of its own: WFH, leaving the region).

    - no day, ``no_record`` (a check-out alone) or ``absent``: the request's status with its reason
      (an absence's reasons are kept in ``absence_replaced``; a check-out's time is kept);
    - present or late: stays attended (they did work), recording the request id;
    - pending_review: stays pending (the flagged check-in is the reviewer's to decide), recording
      the request id and its reason; a review that rejects the check-in applies the request then;
    - a day another request already covers, or a request without a status: records the id only.
    Applying the same request twice changes nothing.
    """
    day = day or Day(status=NO_RECORD, office_id=office_id)
    if request_id in day.request_ids:
        return day
    day = replace(day, office_id=day.office_id or office_id, request_ids=(*day.request_ids, request_id))
    if status is None or day.attended or day.status in COVERED:
        return day
    if day.status == PENDING_REVIEW:
        return replace(day, reasons=(*day.reasons, reason))
    replaced = day.reasons if day.status == ABSENT else day.absence_replaced
    return replace(day, status=status, reasons=(reason,), absence_replaced=replaced)
