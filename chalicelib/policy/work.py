"""Work from home that shows its work: tasks a supervisor assigns and the daily work report
(laporan kinerja harian) an employee submits, each with a small state machine.

Pure (no AWS, no I/O). A task: ``open`` -submit (its owner)-> ``submitted`` -accept (the
supervisor)-> ``accepted``, or -return with a comment-> ``returned`` -submit-> ``submitted`` again.
A report: submitted (its owner, on a working day of theirs, until the cut-off), edited while
``submitted`` or ``returned`` (back to ``submitted``), decided while ``submitted``: ``accepted``
(never edited again) or ``returned`` with a comment. Every refusal is an error with a code and its
numbers as details.

The cut-off (``HADIR_REPORT_CUTOFF``, default ``+1 09:00``): a report of local date D may be
written until D + days at HH:MM in the office's time zone.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.common.errors import Conflict, Forbidden, InvalidInput

OPEN, SUBMITTED, ACCEPTED, RETURNED = "open", "submitted", "accepted", "returned"
TASK_STATES = (OPEN, SUBMITTED, ACCEPTED, RETURNED)
REPORT_STATES = (SUBMITTED, RETURNED, ACCEPTED)
SUBMIT, ACCEPT, RETURN = "submit", "accept", "return"
OWNER, SUPERVISOR = "owner", "supervisor"

# (state, action) -> (who may, the next state)
TASK_TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    (OPEN, SUBMIT): (OWNER, SUBMITTED),
    (RETURNED, SUBMIT): (OWNER, SUBMITTED),
    (SUBMITTED, ACCEPT): (SUPERVISOR, ACCEPTED),
    (SUBMITTED, RETURN): (SUPERVISOR, RETURNED),
}
DECISIONS = {"accept": ACCEPTED, "return": RETURNED}

CUTOFF_PATTERN = r"^\+([0-7]) ([01]\d|2[0-3]):([0-5]\d)$"
_CUTOFF = re.compile(CUTOFF_PATTERN)
MAX_ASSIGNEES = 25  # one task per assignee, two writes each: within one 100-item transaction
MAX_REPORT_ATTACHMENTS = 5
MAX_LINKED_TASKS = 20


def next_task_state(status: str, action: str, role: str, task_id: str) -> str:
    """The task's state after ``action`` by ``role``; Conflict ``task_transition_invalid`` when
    the state does not allow it (a stale or repeated action), Forbidden ``not_your_task`` when
    the action is the other party's."""
    found = TASK_TRANSITIONS.get((status, action))
    if found is None:
        allowed = sorted(a for (s, a) in TASK_TRANSITIONS if s == status)
        raise Conflict(f"A {status} task cannot be {action}ed", code="task_transition_invalid",
                       details={"task_id": task_id, "status": status, "action": action, "allowed": allowed})
    who, after = found
    if who != role:
        raise Forbidden(f"Only the task's {who} may {action} it", code="not_your_task",
                        details={"task_id": task_id, "action": action})
    return after


def needs_comment(decision: str, comment: str | None) -> str | None:
    """The trimmed comment; InvalidInput ``comment_required`` when returning without one."""
    text = (comment or "").strip() or None
    if decision == RETURN and text is None:
        raise InvalidInput("A returned task or report needs a comment saying why", code="comment_required",
                           details={"problems": [{"field": "comment", "code": "missing", "message": "required"}]})
    return text


# --- the daily report -------------------------------------------------------------------------
@dataclass(frozen=True)
class Cutoff:
    days: int = 1
    at: time = time(9, 0)

    def closes(self, report_date: date, timezone: str) -> datetime:
        """When writing the report of ``report_date`` closes (aware, in ``timezone``)."""
        return datetime.combine(report_date + timedelta(days=self.days), self.at, ZoneInfo(timezone))


def parse_cutoff(text: str) -> Cutoff:
    """``+N HH:MM``: N days after the report's date at HH:MM local (ValueError otherwise)."""
    m = _CUTOFF.match(text.strip())
    if m is None:
        raise ValueError(f"a report cut-off is '+<days> HH:MM', e.g. '+1 09:00', not {text!r}")
    return Cutoff(days=int(m.group(1)), at=time(int(m.group(2)), int(m.group(3))))


def check_report_window(report_date: date, today: date, now: datetime, timezone: str, cutoff: Cutoff,
                        working: bool, day_reason: str) -> None:
    """A report may be written for a working day of the employee (InvalidInput
    ``report_not_working_day``), not ahead of it (``report_in_future``), until the cut-off in the
    office's time zone (Conflict ``report_window_closed``)."""
    if report_date > today:
        raise InvalidInput("A report is written on or after its day", code="report_in_future",
                           details={"date": report_date.isoformat(), "today": today.isoformat()})
    if not working:
        raise InvalidInput("Reports are written for working days only", code="report_not_working_day",
                           details={"date": report_date.isoformat(), "reason": day_reason})
    closes = cutoff.closes(report_date, timezone)
    if now >= closes:
        raise Conflict("The report of this day can no longer be written", code="report_window_closed",
                       details={"date": report_date.isoformat(), "closed_at": closes.isoformat(),
                                "timezone": timezone})


def check_editable(status: str | None, report_date: str) -> None:
    """Conflict ``report_accepted``: an accepted report is never edited."""
    if status == ACCEPTED:
        raise Conflict("An accepted report is not edited", code="report_accepted", details={"date": report_date})


def check_decidable(status: str, nip: str, report_date: str) -> None:
    """Conflict ``report_not_submitted``: only a submitted report is accepted or returned."""
    if status != SUBMITTED:
        raise Conflict("Only a submitted report is decided", code="report_not_submitted",
                       details={"nip": nip, "date": report_date, "status": status})


def report_required(work_mode: str | None, required_modes: tuple[str, ...]) -> bool:
    """Whether a day in ``work_mode`` (WFO, WFH, WFA, DL) needs a report (the agency's
    ``HADIR_REPORT_REQUIRED_ON``)."""
    return bool(work_mode) and work_mode.upper() in required_modes


# --- a required report on the day -------------------------------------------------------------
REPORT_DUE, REPORT_MISSING = "report_due", "report_missing"
NO_REPORT = "none"
FROM_REQUEST, FROM_ROSTER, FROM_CHECKIN = "request", "roster", "checkin"


def day_mode(required_modes: tuple[str, ...], *, request: str | None = None, roster: str | None = None,
             checkin: str | None = None) -> tuple[str | None, str | None]:
    """(work mode, where it comes from) of a day: an approved request's (WFH, dinas luar), the
    published roster's (WFO, WFH), the mode the day's check-in was accepted in; the first of
    them that needs a report, else the first known (None, None: nothing says)."""
    known = [(m.upper(), s) for m, s in ((request, FROM_REQUEST), (roster, FROM_ROSTER), (checkin, FROM_CHECKIN)) if m]
    needing = [k for k in known if report_required(k[0], required_modes)]
    return (needing or known or [(None, None)])[0]


@dataclass(frozen=True)
class ReportDay:
    """What one day asks of its report: ``required`` (a working day, not excused, in a mode of
    ``HADIR_REPORT_REQUIRED_ON``), the report's ``state`` (none, submitted, returned, accepted),
    ``due`` (``due`` before the cut-off, ``missing`` after, while required and none was written;
    None otherwise) and the cut-off (office-local ISO)."""

    date: str
    work_mode: str | None
    source: str | None
    required: bool
    state: str
    due: str | None
    closes_at: str
    timezone: str

    def reason(self) -> dict | None:
        """``report_due`` (info) or ``report_missing`` (flag) with its numbers; None otherwise."""
        if self.due is None:
            return None
        code, effect = (REPORT_MISSING, "flag") if self.due == "missing" else (REPORT_DUE, "info")
        return {"code": code, "effect": effect, "date": self.date, "work_mode": self.work_mode,
                "source": self.source, "cutoff": self.closes_at, "timezone": self.timezone}


def report_day(day: date, mode: tuple[str | None, str | None], required_modes: tuple[str, ...], *, working: bool,
               excused: bool, report_status: str | None, now: datetime, timezone: str, cutoff: Cutoff) -> ReportDay:
    """The report state of ``day`` at ``now`` (aware); the cut-off in the office's ``timezone``."""
    closes = cutoff.closes(day, timezone)
    required = working and not excused and report_required(mode[0], required_modes)
    state = report_status or NO_REPORT
    due = None
    if required and state == NO_REPORT:
        due = "missing" if now >= closes else "due"
    return ReportDay(date=day.isoformat(), work_mode=mode[0], source=mode[1], required=required, state=state,
                     due=due, closes_at=closes.isoformat(), timezone=timezone)


REPORT_COUNTS = ("reports_required", "reports_submitted", "reports_accepted", "reports_missing")


def report_counts(days: Iterable[ReportDay]) -> dict[str, int]:
    """The recap's counts of required reports: required, written (submitted, returned or accepted),
    accepted, and missing (none written by the cut-off)."""
    required = [d for d in days if d.required]
    return {"reports_required": len(required), "reports_submitted": sum(d.state != NO_REPORT for d in required),
            "reports_accepted": sum(d.state == ACCEPTED for d in required),
            "reports_missing": sum(d.due == "missing" for d in required)}
