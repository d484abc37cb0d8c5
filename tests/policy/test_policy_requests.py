"""Leave and permission requests: types, date rules, overlap, annual balance, who decides
(policy/requests.py), and what an approved request does to a day (policy/day.apply_request)."""
from datetime import date, timedelta

import pytest

from chalicelib.common.errors import Conflict, Forbidden, InvalidInput
from chalicelib.policy import requests as rq
from chalicelib.policy.calendar import WorkCalendar
from chalicelib.policy.day import (ABSENT, Day, absent_day, apply_request, request_reason,
                                   split_for_absence)

CAL = WorkCalendar()
PLAIN = WorkCalendar(package_cuti_bersama=False)  # no cuti bersama: the balance arithmetic alone
TODAY = date(2026, 3, 3)  # a Tuesday
RULES = rq.RequestRules()


def span(rid, start, end, status="approved", type_="leave", subtype="annual"):
    return rq.Span(rid, type_, subtype, date.fromisoformat(start), date.fromisoformat(end), status)


def refused(fn, *args, **kw):
    with pytest.raises((InvalidInput, Conflict, Forbidden)) as exc:
        fn(*args, **kw)
    return exc.value


# --- types ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("type_, subtype", [("excuse", "sick"), ("leave", "annual"), ("leave", "maternity"),
                                            ("official_travel", None), ("wfh", None), ("leave_region", "")])
def test_each_type_takes_its_own_subtypes(type_, subtype):
    assert rq.check_kind(type_, subtype) == (subtype or None)


@pytest.mark.parametrize("type_, subtype", [("excuse", None), ("leave", "holiday"), ("wfh", "annual"),
                                            ("excuse", "maternity"), ("nap", None)])
def test_a_subtype_of_another_type_or_none_where_one_is_needed_is_invalid_request_type(type_, subtype):
    err = refused(rq.check_kind, type_, subtype)
    assert err.code == "invalid_request_type" and err.details["type"] == type_


def test_what_an_approved_request_gives_the_day():
    assert [rq.day_status_of(t) for t in rq.REQUEST_TYPES] == [
        "excused", "on_leave", "official_travel", None, None]


# --- dates ---------------------------------------------------------------------------------------
def test_a_weeks_leave_counts_its_working_days_only():
    working = rq.check_dates("leave", date(2026, 3, 9), date(2026, 3, 15), TODAY, RULES, CAL)
    assert [d.day for d in working] == [9, 10, 11, 12, 13]


def test_leave_over_nyepi_and_lebaran_skips_the_holidays_and_cuti_bersama():
    working = rq.check_dates("leave", date(2026, 3, 16), date(2026, 3, 27), TODAY, RULES, CAL)
    assert [d.day for d in working] == [16, 17, 25, 26, 27]


@pytest.mark.parametrize("type_, start, end, problem", [
    ("leave", "2026-03-10", "2026-03-09", "end_before_start"),
    ("leave", "2026-03-09", "2026-06-30", "span_too_long"),
    ("excuse", "2026-03-02", "2026-03-04", "excuse_in_future"),
    ("leave", "2026-03-07", "2026-03-08", "no_working_days"),
])
def test_bad_dates_are_invalid_request_dates_with_the_problem(type_, start, end, problem):
    err = refused(rq.check_dates, type_, date.fromisoformat(start), date.fromisoformat(end), TODAY, RULES, CAL)
    assert err.code == "invalid_request_dates" and err.details["problems"][0]["code"] == problem


def test_an_excuse_for_a_weekend_is_refused_but_a_wfh_over_one_is_not_checked_for_working_days():
    assert rq.check_dates("wfh", date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 6), RULES, CAL) == []


def test_excuses_and_leave_go_back_at_most_the_retroactive_limit():
    # Given the limit of 14 days: 2026-02-17 is the earliest start on 2026-03-03
    assert rq.check_dates("excuse", date(2026, 2, 18), date(2026, 2, 18), TODAY, RULES, CAL)
    err = refused(rq.check_dates, "excuse", date(2026, 2, 16), date(2026, 2, 16), TODAY, RULES, CAL)
    assert err.code == "retroactive_limit"
    assert err.details == {"start": "2026-02-16", "today": "2026-03-03", "limit_days": 14,
                           "earliest": "2026-02-17"}


@pytest.mark.parametrize("type_", ["wfh", "leave_region"])
def test_wfh_and_leaving_the_region_are_never_retroactive(type_):
    err = refused(rq.check_dates, type_, date(2026, 3, 2), date(2026, 3, 4), TODAY, RULES, CAL)
    assert err.code == "retroactive_limit" and err.details["limit_days"] == 0


def test_nothing_starts_beyond_the_future_limit():
    err = refused(rq.check_dates, "leave", date(2027, 3, 4), date(2027, 3, 5), TODAY, RULES, CAL)
    assert err.code == "future_limit" and err.details["latest"] == "2027-03-03"


# --- overlap -------------------------------------------------------------------------------------
def test_a_request_overlapping_a_pending_or_approved_one_is_refused_with_them():
    existing = [span("rq-a", "2026-03-09", "2026-03-11", "pending"),
                span("rq-b", "2026-03-12", "2026-03-12", "rejected"),
                span("rq-c", "2026-03-13", "2026-03-13", "cancelled")]
    err = refused(rq.check_overlap, "official_travel", date(2026, 3, 11), date(2026, 3, 13), existing)
    assert err.code == "overlapping_request" and [r["request_id"] for r in err.details["requests"]] == ["rq-a"]
    rq.check_overlap("leave", date(2026, 3, 12), date(2026, 3, 13), existing)  # rejected, cancelled: free


def test_leaving_the_region_overlaps_only_another_leave_region():
    leave = [span("rq-a", "2026-03-09", "2026-03-11")]
    rq.check_overlap("leave_region", date(2026, 3, 9), date(2026, 3, 11), leave)
    region = [span("rq-r", "2026-03-09", "2026-03-11", type_="leave_region", subtype=None)]
    assert refused(rq.check_overlap, "leave_region", date(2026, 3, 10), date(2026, 3, 10), region).code == \
        "overlapping_request"
    rq.check_overlap("leave", date(2026, 3, 10), date(2026, 3, 10), region)


# --- annual leave balance ----------------------------------------------------------------------------
def test_a_first_year_has_twelve_days_and_pending_requests_reserve():
    spans = [span("rq-a", "2026-03-09", "2026-03-11"),  # 3 approved
             span("rq-b", "2026-04-06", "2026-04-07", "pending"),  # 2 reserved
             span("rq-c", "2026-04-08", "2026-04-08", "rejected"),
             span("rq-d", "2026-04-09", "2026-04-09", type_="leave", subtype="sick")]  # not annual
    b = rq.leave_balance(spans, 2026, PLAIN)
    assert (b.carried_over, b.total, b.taken, b.reserved, b.remaining) == (6, 18, 3, 2, 13)


def test_unused_days_carry_over_so_the_total_is_at_most_eighteen():
    # Given 2025: 9 working days of annual leave taken -> 3 unused carry over
    used_9 = [span("rq-x", "2025-02-03", "2025-02-13")]
    assert rq.leave_balance(used_9, 2026, PLAIN).total == 15
    # And 12 or more used: nothing carries over; none used: 6 carry (18 at most)
    used_12 = [span("rq-y", "2025-02-03", "2025-02-18")]
    assert rq.annual_days(used_12, 2025, PLAIN) == 12
    assert rq.leave_balance(used_12, 2026, PLAIN).carried_over == 0
    assert rq.leave_balance([], 2026, PLAIN).total == 18


def test_leave_across_new_year_counts_in_each_year():
    spans = [span("rq-a", "2025-12-29", "2026-01-02")]  # 29, 30, 31 Dec; 2 Jan (1 Jan a holiday)
    assert (rq.annual_days(spans, 2025, CAL), rq.annual_days(spans, 2026, CAL)) == (3, 1)


def test_annual_leave_beyond_the_balance_is_insufficient_leave_balance():
    spans = [span("rq-a", "2026-02-02", "2026-02-13"), span("rq-b", "2026-03-02", "2026-03-06", "pending")]
    working = PLAIN.working_days(date(2026, 4, 6), date(2026, 4, 14))  # 7 days; 18 - 10 - 5 = 3 left
    err = refused(rq.check_balance, working, spans, PLAIN)
    assert err.code == "insufficient_leave_balance"
    assert err.details["requested_days"] == 7 and err.details["balance"]["remaining"] == 3
    rq.check_balance(working[:3], spans, PLAIN)


# --- cuti bersama is taken from annual leave ------------------------------------------------------
CUTI_2026 = {date(2026, 2, 16): "Imlek", date(2026, 3, 18): "Nyepi", date(2026, 3, 20): "Idul Fitri",
             date(2026, 3, 23): "Idul Fitri", date(2026, 3, 24): "Idul Fitri", date(2026, 5, 15): "Waisak",
             date(2026, 5, 28): "Idul Adha", date(2026, 12, 24): "Natal",
             date(2026, 3, 21): "a Saturday: no leave day"}
AGENCY = WorkCalendar(cuti_bersama=CUTI_2026, package_cuti_bersama=False)
USED_2025 = [span("rq-old", "2025-02-03", "2025-02-18")]  # 12 days: nothing carries over


def test_the_years_cuti_bersama_on_weekdays_count_as_taken_annual_leave():
    # Given 12 days of annual leave (nothing carried over) and 8 cuti bersama weekdays (and a Saturday)
    b = rq.leave_balance(USED_2025, 2026, AGENCY)
    # Then the 8 are taken from the 12, shown apart from the requests: 4 are left to request
    assert (b.total, b.cuti_bersama_days, b.taken, b.reserved, b.remaining) == (12, 8, 0, 0, 4)
    assert b.to_dict()["cuti_bersama_days"] == 8
    assert rq.cuti_bersama_days(2026, AGENCY)[0] == date(2026, 2, 16) and date(2026, 3, 21) not in \
        rq.cuti_bersama_days(2026, AGENCY)


def test_annual_leave_beyond_what_cuti_bersama_leaves_is_insufficient_leave_balance():
    # Given 4 days left after the cuti bersama
    working = AGENCY.working_days(date(2026, 4, 6), date(2026, 4, 10))  # 5 working days
    # When 5 are asked: refused with the balance; 4 are accepted
    err = refused(rq.check_balance, working, USED_2025, AGENCY)
    assert err.code == "insufficient_leave_balance" and err.details["requested_days"] == 5
    assert (err.details["balance"]["cuti_bersama_days"], err.details["balance"]["remaining"]) == (8, 4)
    rq.check_balance(working[:4], USED_2025, AGENCY)


def test_last_years_cuti_bersama_leave_less_to_carry_over():
    # Given the package's calendar: 11 cuti bersama weekdays in 2025, 8 in 2026, no requests
    b = rq.leave_balance([], 2026, CAL)
    # Then 2025 left 1 of its 12 to carry over, and 2026's 8 are taken from 12 + 1
    assert (b.carried_over, b.total, b.cuti_bersama_days, b.remaining) == (1, 13, 8, 5)


def test_more_cuti_bersama_than_leave_leaves_nothing_not_a_negative_balance():
    # Given 20 cuti bersama days in a row (14 on weekdays) and 12 days of leave
    many = WorkCalendar(cuti_bersama={date(2026, 1, 5) + timedelta(days=i): "x"
                                      for i in range(20)}, package_cuti_bersama=False)
    b = rq.leave_balance(USED_2025, 2026, many)
    assert (b.cuti_bersama_days, b.remaining) == (14, 0)



# --- who decides ------------------------------------------------------------------------------------
def decider(**kw):
    base = {"own": False, "level": 1, "is_admin": False, "is_supervisor": False, "is_second_level": False,
            "decided_before": False}
    return rq.check_decider(**{**base, **kw})


@pytest.mark.parametrize("kw, code", [
    ({"own": True, "is_admin": True}, "own_request"),
    ({}, "not_your_staff"),
    ({"is_second_level": True}, "not_your_staff"),
    ({"level": 2, "is_supervisor": True}, "second_level_required"),
    ({"level": 2, "is_second_level": True, "decided_before": True}, "second_level_required"),
])
def test_who_may_not_decide(kw, code):
    assert refused(decider, **kw).code == code


@pytest.mark.parametrize("kw", [{"is_supervisor": True}, {"is_admin": True}, {"level": 2, "is_admin": True},
                                {"level": 2, "is_second_level": True}])
def test_who_may_decide(kw):
    decider(**kw)


# --- what an approval does to a day -------------------------------------------------------------------
REASON = request_reason("rq-1", "on_leave", "leave", "annual")


def test_no_day_or_an_absence_becomes_the_requests_status_keeping_the_absence():
    assert apply_request(None, "kantor", "rq-1", "on_leave", REASON) == Day(
        status="on_leave", office_id="kantor", reasons=(REASON,), request_ids=("rq-1",))
    absent = absent_day("kantor", [{"code": "no_checkin"}])
    day = apply_request(absent, "kantor", "rq-1", "on_leave", REASON)
    assert (day.status, day.reasons, day.absence_replaced) == ("on_leave", (REASON,), ({"code": "no_checkin"},))


def test_an_attended_day_stays_attended_and_records_the_request():
    present = Day(status="present", office_id="kantor", first_in="07:20:00", checkin_ids=("c1",),
                  reasons=({"code": "on_time", "checkin_id": "c1"},))
    day = apply_request(present, "kantor", "rq-1", "official_travel", REASON)
    assert day.status == "present" and day.reasons == present.reasons and day.request_ids == ("rq-1",)


def test_a_pending_review_stays_for_the_reviewer_with_the_requests_reason():
    flagged = Day(status="pending_review", first_in="07:20:00", reasons=({"code": "new_device"},))
    day = apply_request(flagged, "kantor", "rq-1", "excused", REASON)
    assert day.status == "pending_review" and day.reasons == ({"code": "new_device"}, REASON)


def test_a_request_without_a_status_and_a_second_application_only_record_the_id():
    day = apply_request(None, "kantor", "rq-w", None, REASON)
    assert (day.status, day.request_ids, day.reasons) == ("no_record", ("rq-w",), ())
    once = apply_request(None, "kantor", "rq-1", "on_leave", REASON)
    assert apply_request(once, "kantor", "rq-1", "on_leave", REASON) is once


def test_a_covered_day_is_never_absent_for_absence_detection():
    days = [("a", Day(status="on_leave")), ("b", Day(status="excused")), ("c", Day(status="official_travel")),
            ("d", Day(status=ABSENT))]
    attended, pending = split_for_absence(days)
    assert attended == {"a", "b", "c"} and pending == set()
