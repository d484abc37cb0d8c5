"""Leave and permission requests: what may be asked, when, and what an approved one does to a day.

Pure (no AWS, no I/O). Types and what an approval gives the days it covers:

================  =============================================  ===============================
type              subtypes                                        day status when approved
================  =============================================  ===============================
excuse            sick, important_reason                          excused (a past absence)
leave             annual, sick, important_reason, maternity,      on_leave
                  big, unpaid (PP 11/2017)
official_travel   (dinas luar, DL: a destination geofence)        official_travel; also a
                                                                  time-bounded assignment site
wfh               (the employee's registered home site)           none of its own: the check-in
                                                                  at home says WFH
leave_region      (permission to leave the region)                none of its own
================  =============================================  ===============================

Date rules: ``end >= start``, at most :data:`MAX_SPAN_DAYS` days, at least one working day for
excuses and leave; an excuse lies in the past (or today); excuses, leave and dinas luar may start
at most ``retroactive_days`` before today, WFH and leaving the region not before today; nothing
starts more than ``future_days`` ahead. A request overlapping the employee's pending or approved
one is refused (leaving the region overlaps only another leave_region: it is usually taken during
leave). Annual leave (PP 11/2017): 12 working days a year; what the previous year left unused
(of its own 12) carries over so that a year's total is at most 18; pending requests reserve days.
Cuti bersama (collective leave, the calendar's ``cuti_bersama`` days on weekdays) is taken from
annual leave: the year's count as taken (``cuti_bersama_days``), last year's in its carry-over.
Every refusal is an error with a code and its numbers as details.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.common.errors import Conflict, Forbidden, InvalidInput, JsonObject, problem
from chalicelib.policy.calendar import CUTI_BERSAMA, WorkCalendar
from chalicelib.policy.day import EXCUSED, OFFICIAL_TRAVEL, ON_LEAVE

EXCUSE, LEAVE, OFFICIAL_TRAVEL_TYPE, WFH, LEAVE_REGION = (
    "excuse", "leave", "official_travel", "wfh", "leave_region")
SUBTYPES: dict[str, tuple[str, ...]] = {
    EXCUSE: ("sick", "important_reason"),
    LEAVE: ("annual", "sick", "important_reason", "maternity", "big", "unpaid"),
    OFFICIAL_TRAVEL_TYPE: (), WFH: (), LEAVE_REGION: (),
}
REQUEST_TYPES = tuple(SUBTYPES)
DAY_STATUS_OF: dict[str, str | None] = {
    EXCUSE: EXCUSED, LEAVE: ON_LEAVE, OFFICIAL_TRAVEL_TYPE: OFFICIAL_TRAVEL, WFH: None, LEAVE_REGION: None}
NEEDS_WORKING_DAYS = frozenset({EXCUSE, LEAVE})
NOT_RETROACTIVE = frozenset({WFH, LEAVE_REGION})

PENDING, APPROVED, REJECTED, CANCELLED = "pending", "approved", "rejected", "cancelled"
REQUEST_STATES = (PENDING, APPROVED, REJECTED, CANCELLED)
ACTIVE = frozenset({PENDING, APPROVED})  # what overlaps and reserves leave

MAX_SPAN_DAYS = 92  # three months (maternity, big leave); also keeps an approval in one transaction
ANNUAL_DAYS, ANNUAL_MAX_DAYS = 12, 18


@dataclass(frozen=True)
class RequestRules:
    retroactive_days: int = 14
    future_days: int = 365
    approval_levels: int = 1


@dataclass(frozen=True)
class Span:
    """One of the employee's requests as the rules see it (dates office-local, inclusive)."""

    request_id: str
    type: str
    subtype: str | None
    start: date
    end: date
    status: str

    @property
    def annual(self) -> bool:
        return self.type == LEAVE and self.subtype == "annual"


def day_status_of(request_type: str) -> str | None:
    """The day status an approved request of ``request_type`` gives (None: none of its own)."""
    return DAY_STATUS_OF[request_type]


def check_kind(request_type: str, subtype: str | None) -> str | None:
    """The subtype, checked against the type (InvalidInput ``invalid_request_type``)."""
    allowed = SUBTYPES.get(request_type)
    if allowed is None or (subtype or None) not in (allowed or (None,)):
        raise InvalidInput("This subtype does not belong to the request type", code="invalid_request_type",
                           details={"type": request_type, "subtype": subtype,
                                    "allowed_subtypes": list(allowed or ())})
    return subtype or None


def check_dates(request_type: str, start: date, end: date, today: date, rules: RequestRules,
                calendar: WorkCalendar) -> list[date]:
    """The working days of the request, once its dates pass every rule."""
    if end < start or (end - start).days >= MAX_SPAN_DAYS:
        raise _bad_dates(problem("end", "end_before_start" if end < start else "span_too_long",
                                 start=start.isoformat(), end=end.isoformat(), max_days=MAX_SPAN_DAYS))
    if request_type == EXCUSE and end > today:
        raise _bad_dates(problem("end", "excuse_in_future", end=end.isoformat(), today=today.isoformat()))
    limit = 0 if request_type in NOT_RETROACTIVE else rules.retroactive_days
    if start < today - timedelta(days=limit):
        raise InvalidInput(f"A {request_type} request may start at most {limit} days back",
                           code="retroactive_limit", details={
                               "start": start.isoformat(), "today": today.isoformat(), "limit_days": limit,
                               "earliest": (today - timedelta(days=limit)).isoformat()})
    if start > today + timedelta(days=rules.future_days):
        raise InvalidInput(f"A request may start at most {rules.future_days} days ahead", code="future_limit",
                           details={"start": start.isoformat(), "limit_days": rules.future_days,
                                    "latest": (today + timedelta(days=rules.future_days)).isoformat()})
    working = calendar.working_days(start, end)
    if request_type in NEEDS_WORKING_DAYS and not working:
        raise _bad_dates(problem("start", "no_working_days", start=start.isoformat(), end=end.isoformat()))
    return working


def _bad_dates(p: JsonObject) -> InvalidInput:
    return InvalidInput("The request's dates are not valid", code="invalid_request_dates",
                        details={"problems": [p]})


def overlaps(a_type: str, b_type: str) -> bool:
    """Whether two requests on common dates conflict: leaving the region only with another."""
    return (a_type == LEAVE_REGION) == (b_type == LEAVE_REGION)


def check_overlap(request_type: str, start: date, end: date, existing: Iterable[Span]) -> None:
    """Conflict ``overlapping_request`` naming the pending or approved requests in the way."""
    clash = [s for s in existing if s.status in ACTIVE and s.start <= end and start <= s.end
             and overlaps(request_type, s.type)]
    if clash:
        raise Conflict("Another pending or approved request covers some of these dates",
                       code="overlapping_request", details={"requests": [
                           {"request_id": s.request_id, "type": s.type, "status": s.status,
                            "start": s.start.isoformat(), "end": s.end.isoformat()} for s in clash]})


@dataclass(frozen=True)
class LeaveBalance:
    """Annual leave of one year, in working days."""

    year: int
    entitlement: int
    carried_over: int
    total: int
    taken: int  # approved
    reserved: int  # pending
    remaining: int
    cuti_bersama_days: int = 0  # the year's cuti bersama on weekdays, taken from annual leave

    def to_dict(self) -> JsonObject:
        return dict(self.__dict__)


def annual_days(spans: Iterable[Span], year: int, calendar: WorkCalendar,
                states: frozenset[str] = ACTIVE) -> int:
    """Working days of ``year`` the annual-leave requests in ``states`` use."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    return sum(len(calendar.working_days(max(s.start, first), min(s.end, last)))
               for s in spans if s.annual and s.status in states and s.start <= last and s.end >= first)


def cuti_bersama_days(year: int, calendar: WorkCalendar) -> list[date]:
    """The year's cuti bersama days on the calendar's weekdays: each is a day of annual leave."""
    first = date(year, 1, 1)
    days = (first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days))
    return [d for d in days if d.weekday() in calendar.workdays and calendar.day_status(d).reason == CUTI_BERSAMA]


def leave_balance(spans: Iterable[Span], year: int, calendar: WorkCalendar) -> LeaveBalance:
    """The year's annual leave: 12 days, plus what last year left of its own 12 (after its requests
    and its cuti bersama), at most 18; the year's cuti bersama counts as taken."""
    spans = list(spans)
    last_used = annual_days(spans, year - 1, calendar) + len(cuti_bersama_days(year - 1, calendar))
    carried = max(0, min(ANNUAL_MAX_DAYS - ANNUAL_DAYS, ANNUAL_DAYS - last_used))
    taken = annual_days(spans, year, calendar, frozenset({APPROVED}))
    reserved = annual_days(spans, year, calendar, frozenset({PENDING}))
    collective = len(cuti_bersama_days(year, calendar))
    total = ANNUAL_DAYS + carried
    return LeaveBalance(year=year, entitlement=ANNUAL_DAYS, carried_over=carried, total=total, taken=taken,
                        reserved=reserved, remaining=max(0, total - collective - taken - reserved),
                        cuti_bersama_days=collective)


def check_balance(working: list[date], spans: Iterable[Span], calendar: WorkCalendar) -> None:
    """InvalidInput ``insufficient_leave_balance`` if annual leave on ``working`` days exceeds any
    of its years' remaining balance."""
    spans = list(spans)
    for year in sorted({d.year for d in working}):
        need = sum(1 for d in working if d.year == year)
        balance = leave_balance(spans, year, calendar)
        if need > balance.remaining:
            raise InvalidInput("Not enough annual leave left", code="insufficient_leave_balance",
                               details={"year": year, "requested_days": need, "balance": balance.to_dict()})


def check_decider(*, own: bool, level: int, is_admin: bool, is_supervisor: bool,
                  is_second_level: bool, decided_before: bool) -> None:
    """Who may decide a request at ``level`` (1: the direct supervisor; 2: the supervisor's own
    supervisor); admins at any level; nobody their own request, nor the same request twice."""
    if own:
        raise Forbidden("Nobody decides their own request", code="own_request")
    if decided_before:
        raise Forbidden("The next level must be decided by someone else", code="second_level_required",
                        details={"level": level})
    if is_admin or (is_supervisor if level == 1 else is_second_level):
        return
    if level == 2 and is_supervisor:
        raise Forbidden("The second level is the supervisor's supervisor or an admin",
                        code="second_level_required", details={"level": level})
    raise Forbidden("Supervisors may decide their own staff's requests only", code="not_your_staff")


def request_not_pending(request_id: str, status: str | None = None) -> Conflict:
    return Conflict("The request is no longer pending", code="request_not_pending",
                    details={"request_id": request_id, **({"status": status} if status else {})})
