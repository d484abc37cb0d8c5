"""The pure rules of tasks and daily work reports (policy/work.py)."""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from chalicelib.common.errors import Conflict, Forbidden, InvalidInput
from chalicelib.policy import work

WIT, WITA = "Asia/Jayapura", "Asia/Makassar"
TUESDAY = date(2026, 3, 3)


@pytest.mark.parametrize("status,action,role,after", [
    ("open", "submit", "owner", "submitted"), ("returned", "submit", "owner", "submitted"),
    ("submitted", "accept", "supervisor", "accepted"), ("submitted", "return", "supervisor", "returned")])
def test_every_allowed_task_transition(status, action, role, after):
    assert work.next_task_state(status, action, role, "tk-1") == after


@pytest.mark.parametrize("status,action", [
    ("open", "accept"), ("open", "return"), ("submitted", "submit"), ("accepted", "submit"),
    ("accepted", "return"), ("returned", "accept")])
def test_a_transition_the_state_does_not_allow_is_a_conflict_naming_what_is(status, action):
    with pytest.raises(Conflict) as exc:
        work.next_task_state(status, action, "supervisor" if action != "submit" else "owner", "tk-1")
    assert exc.value.code == "task_transition_invalid" and exc.value.details["status"] == status


def test_the_other_partys_action_is_forbidden():
    with pytest.raises(Forbidden):
        work.next_task_state("open", "submit", "supervisor", "tk-1")
    with pytest.raises(Forbidden):
        work.next_task_state("submitted", "accept", "owner", "tk-1")


def test_returning_needs_a_comment_accepting_does_not():
    with pytest.raises(InvalidInput) as exc:
        work.needs_comment("return", "   ")
    assert exc.value.code == "comment_required"
    assert work.needs_comment("accept", None) is None and work.needs_comment("return", " lagi ") == "lagi"


@pytest.mark.parametrize("text,days,at", [("+1 09:00", 1, time(9)), ("+0 23:59", 0, time(23, 59)),
                                          ("+7 00:00", 7, time(0))])
def test_cut_offs_parse(text, days, at):
    assert work.parse_cutoff(text) == work.Cutoff(days, at)


@pytest.mark.parametrize("text", ["next day 09:00", "+1 9:00", "+8 09:00", "+1 24:00", ""])
def test_malformed_cut_offs_are_refused(text):
    with pytest.raises(ValueError):
        work.parse_cutoff(text)


def test_the_window_closes_at_the_cut_off_in_the_offices_zone():
    cutoff = work.Cutoff()
    closes = datetime(2026, 3, 4, 9, 0, tzinfo=ZoneInfo(WIT))
    work.check_report_window(TUESDAY, date(2026, 3, 4), closes.replace(hour=8, minute=59),
                             WIT, cutoff, True, "working_day")
    with pytest.raises(Conflict) as exc:
        work.check_report_window(TUESDAY, date(2026, 3, 4), closes, WIT, cutoff, True, "working_day")
    assert exc.value.code == "report_window_closed"
    # The same instant is 08:00 in WITA: still open there
    work.check_report_window(TUESDAY, date(2026, 3, 4), closes.astimezone(ZoneInfo(WITA)), WITA, cutoff, True,
                             "working_day")


def test_future_days_and_days_off_are_refused_with_their_reason():
    now = datetime(2026, 3, 3, 16, tzinfo=ZoneInfo(WITA))
    with pytest.raises(InvalidInput) as exc:
        work.check_report_window(date(2026, 3, 4), TUESDAY, now, WITA, work.Cutoff(), True, "working_day")
    assert exc.value.code == "report_in_future"
    with pytest.raises(InvalidInput) as exc:
        work.check_report_window(date(2026, 3, 1), TUESDAY, now, WITA, work.Cutoff(), False, "weekend")
    assert (exc.value.code, exc.value.details["reason"]) == ("report_not_working_day", "weekend")


def test_an_accepted_report_is_not_edited_and_only_a_submitted_one_is_decided():
    work.check_editable(None, "2026-03-03")
    work.check_editable("returned", "2026-03-03")
    with pytest.raises(Conflict):
        work.check_editable("accepted", "2026-03-03")
    work.check_decidable("submitted", "1", "2026-03-03")
    for status in ("returned", "accepted"):
        with pytest.raises(Conflict):
            work.check_decidable(status, "1", "2026-03-03")


def test_whether_a_report_is_required_follows_the_agencys_modes():
    assert work.report_required("WFH", ("WFH", "WFA")) and work.report_required("wfa", ("WFH", "WFA"))
    assert not work.report_required("WFO", ("WFH", "WFA")) and not work.report_required(None, ("WFH",))


# --- the report a day asks for (policy.work.report_day) ----------------------------------------
from datetime import date as _date, datetime as _datetime  # noqa: E402
from zoneinfo import ZoneInfo as _Zone  # noqa: E402

from chalicelib.policy.work import (Cutoff, day_mode, report_counts, report_day)  # noqa: E402

_TUE = _date(2026, 3, 3)
_REQUIRED = ("WFH", "WFA")


def _at(iso_local: str, tz: str = "Asia/Makassar") -> _datetime:
    return _datetime.fromisoformat(iso_local).replace(tzinfo=_Zone(tz))


def _day(mode=("WFH", "request"), status=None, now="2026-03-04T08:59", tz="Asia/Makassar", **kw):
    return report_day(_TUE, mode, _REQUIRED, working=kw.pop("working", True), excused=kw.pop("excused", False),
                      report_status=status, now=_at(now, tz), timezone=tz, cutoff=Cutoff())


def test_a_wfh_day_without_a_report_is_due_before_the_cut_off_and_missing_from_it():
    # Given Made's WFH Tuesday in Denpasar, the cut-off Wednesday 09:00 WITA
    due, missing = _day(now="2026-03-04T08:59"), _day(now="2026-03-04T09:00")
    # Then a minute before it is due (info), from 09:00 missing (flag), each with its numbers
    assert (due.required, due.due, due.reason()["code"], due.reason()["effect"]) == (True, "due", "report_due", "info")
    assert missing.reason() == {"code": "report_missing", "effect": "flag", "date": "2026-03-03", "work_mode": "WFH",
                                "source": "request", "cutoff": "2026-03-04T09:00:00+08:00",
                                "timezone": "Asia/Makassar"}


def test_the_cut_off_is_read_in_the_offices_own_time_zone():
    # 09:00 WIB is 10:00 WITA: at 09:30 WITA a Jakarta day is still due, a Denpasar day missing
    at = _at("2026-03-04T09:30")
    jakarta = report_day(_TUE, ("WFH", "roster"), _REQUIRED, working=True, excused=False, report_status=None,
                         now=at, timezone="Asia/Jakarta", cutoff=Cutoff())
    denpasar = report_day(_TUE, ("WFH", "roster"), _REQUIRED, working=True, excused=False, report_status=None,
                          now=at, timezone="Asia/Makassar", cutoff=Cutoff())
    assert (jakarta.due, denpasar.due) == ("due", "missing")


def test_a_written_report_an_office_day_a_day_off_or_a_leave_day_carries_no_reason():
    assert _day(status="returned", now="2026-03-05T12:00").reason() is None
    assert _day(status="returned", now="2026-03-05T12:00").state == "returned"
    for day in (_day(mode=("WFO", "roster"), now="2026-03-05T12:00"), _day(mode=(None, None)),
                _day(working=False, now="2026-03-05T12:00"), _day(excused=True, now="2026-03-05T12:00")):
        assert (day.required, day.due, day.reason()) == (False, None, None)


def test_the_days_mode_is_the_first_source_that_needs_a_report():
    assert day_mode(_REQUIRED, request="WFH", roster="WFO", checkin="WFO") == ("WFH", "request")
    assert day_mode(_REQUIRED, roster="WFO", checkin="WFA") == ("WFA", "checkin")  # an approved anywhere place
    assert day_mode(_REQUIRED, roster="WFO", checkin="WFO") == ("WFO", "roster")
    assert day_mode(_REQUIRED) == (None, None)
    assert day_mode(("WFO",), checkin="wfo") == ("WFO", "checkin")


def test_the_recaps_counts_are_of_required_days_only():
    days = [_day(status="accepted", now="2026-03-05T12:00"), _day(status="returned", now="2026-03-05T12:00"),
            _day(now="2026-03-05T12:00"), _day(now="2026-03-04T08:00"), _day(mode=("WFO", "roster"), status="submitted")]
    assert report_counts(days) == {"reports_required": 4, "reports_submitted": 2, "reports_accepted": 1,
                                   "reports_missing": 1}
