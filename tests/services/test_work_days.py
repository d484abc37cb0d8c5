"""The report a day asks for, in memory (``services/work_days.py``): the day's mode from an
approved request, the unit's published roster or the check-in; the reports read by key in bulk."""
from datetime import date

import pytest

from chalicelib.policy.day import Day
from chalicelib.services import work_days
from chalicelib.services.records import PublishedRoster, WorkReport
from tests.fakes import seeded_services

AYU, MADE = "199001152015032001", "199208202019021003"
TUE, WED = date(2026, 3, 3), date(2026, 3, 4)


@pytest.fixture
def svc():
    s = seeded_services("2026-03-05T12:00:00+08:00")
    return s


def given_roster(svc, statuses):
    ayu = svc.records.get_employee(AYU)
    svc.records.publish_roster(PublishedRoster(unit=ayu.unit, month="2026-03", days=["2026-03-03", "2026-03-04"],
                                               statuses=statuses, document={}, published_at="", published_by="admin"),
                               None, "admin", svc.now_iso())


def states(svc, nips, days=None):
    people = [svc.records.get_employee(n) for n in nips]
    wanted = [(e, svc.records.get_office(e.office_ids[0]), d) for e in people for d in (TUE, WED)]
    return work_days.report_days(svc, wanted, days=days)


def test_a_rostered_wfh_day_needs_a_report_a_rostered_wfo_day_does_not(svc):
    # Given the unit's roster: Ayu WFH on Tuesday, WFO on Wednesday; her Tuesday's report written
    given_roster(svc, {AYU: ["WFH", "WFO"]})
    svc.records.save_report(WorkReport(nip=AYU, date="2026-03-03", supervisor_nip=None, text="x",
                                       created_at=svc.now_iso(), updated_at=svc.now_iso()),
                            None, "report_submitted", AYU, svc.now_iso())
    # When the days are read
    found = states(svc, [AYU])
    # Then Tuesday is required (from the roster) and submitted, Wednesday an office day
    tue, wed = found[(AYU, "2026-03-03")], found[(AYU, "2026-03-04")]
    assert (tue.required, tue.source, tue.state, tue.reason()) == (True, "roster", "submitted", None)
    assert (wed.required, wed.work_mode, wed.reason()) == (False, "WFO", None)


def test_a_check_in_at_an_anywhere_place_makes_the_day_wfa(svc):
    # Given no roster nor request, Made's Tuesday checked in at an approved anywhere place (WFA)
    found = states(svc, [MADE], days={(MADE, "2026-03-03"): Day(status="present", work_mode="WFA")})
    # Then Tuesday's report is missing (Wednesday 09:00 WITA has passed), Wednesday asks nothing
    tue = found[(MADE, "2026-03-03")]
    assert (tue.work_mode, tue.source, tue.due, tue.reason()["code"]) == ("WFA", "checkin", "missing", "report_missing")
    assert found[(MADE, "2026-03-04")].required is False


def test_a_leave_day_needs_no_report_even_when_rostered_wfh(svc):
    given_roster(svc, {AYU: ["WFH", "WFH"]})
    found = states(svc, [AYU], days={(AYU, "2026-03-03"): Day(status="on_leave")})
    assert found[(AYU, "2026-03-03")].required is False and found[(AYU, "2026-03-04")].due == "missing"
