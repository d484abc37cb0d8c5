"""The effective schedule (policy/schedule.py) against an independent oracle.

The oracle (:func:`oracle`) is the module docstring's rules said again in plain terms over the
generated specs themselves (plain dicts, never the parsed ``Schedule``), with the holidays taken
straight from the ``holidays`` package and the test's own regional list, never from WorkCalendar.
Hypothesis generates documents, employees, offices and dates; named examples pin the edges
(Ramadan's first and last day, a WIT office at 23:30 UTC, a flexible start).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.common.errors import InvalidInput
from chalicelib.common.resources import ABSENCE_LOCAL_TIME
from chalicelib.policy import schedule as sch
from chalicelib.policy.calendar import WorkCalendar
from chalicelib.policy.schedule import (
    NATIONAL_HOURS,
    RAMADAN_HOURS,
    Person,
    Place,
    default_document,
    effective_day,
    effective_day_at,
    parse_schedules,
    weekly_net_minutes,
)

settings.register_profile("schedule_oracle", max_examples=300, deadline=None, derandomize=True, database=None)
PROFILE = settings.get_profile("schedule_oracle")

ZONES = {"Asia/Jakarta": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9}
REGIONAL = {"51": {date(2026, 3, 3): "Hari Raya Galungan (test)", date(2026, 11, 10): "Kuningan (test)"}}
CALENDAR = WorkCalendar(regional_holidays=REGIONAL)
FIRST, LAST = date(2026, 1, 1), date(2027, 12, 31)
SCOPE_KEYS = {"group": "groups", "unit": "units", "office": "office_ids"}


def hm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def mins(s: str) -> int:
    return int(s[:2]) * 60 + int(s[3:5])


# --- the oracle ------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def package_days(year: int) -> frozenset[date]:
    public = holidays.country_holidays("ID", years=year)
    government = holidays.country_holidays("ID", years=year, categories=("government",))
    return frozenset(public) | frozenset(government)


def holiday(d: date, province: str | None) -> bool:
    return d in package_days(d.year) or d in REGIONAL.get(province or "", {})


def covers(spec: dict, d: date) -> bool:
    lo, hi = spec.get("valid_from"), spec.get("valid_to")
    return (lo is None or date.fromisoformat(lo) <= d) and (hi is None or d <= date.fromisoformat(hi))


def oracle(doc: dict, unit: str | None, group: str | None, office_id: str, province: str | None,
           office_rules: dict, d: date) -> dict:
    """What the docstring says, without the module's code."""
    valid = [s for s in doc["schedules"] if covers(s, d)]
    chosen, source = None, None
    for scope, mine in (("group", group), ("unit", unit), ("office", office_id)):
        if mine is None:
            continue
        for s in valid:
            if mine in s.get("applies_to", {}).get(SCOPE_KEYS[scope], []):
                chosen, source = s, scope
                break
        if chosen:
            break
    if chosen is None:
        for s in valid:
            if not any(s.get("applies_to", {}).get(k) for k in SCOPE_KEYS.values()):
                chosen, source = s, "agency"
                break
    if chosen is None:
        working = not holiday(d, province) and d.weekday() < 5
        return {"schedule_id": "office_rules", "working": working, "variant_id": None,
                "work_start": office_rules.get("work_start", "07:30"), "work_end": office_rules.get("work_end", "16:00")}
    variant = next((v for v in chosen.get("variants", []) if covers(v, d)), None)
    if variant is None and chosen.get("seasonal", True):
        variant = next((v for v in doc.get("seasons", []) if covers(v, d)), None)
    wd = str(d.weekday())
    own = (variant or {}).get("hours", {})
    hours = own.get(wd) or own.get("default") or chosen["hours"].get(wd) or chosen["hours"]["default"]
    flexible = chosen.get("flexible")
    if flexible:
        start = flexible["start_window"][1]
        end = hm(min(mins(start) + mins(hours["end"]) - mins(hours["start"]), mins(chosen["checkout_window"][1])))
    else:
        start, end = hours["start"], hours["end"]
    working = not holiday(d, province) and d.weekday() in chosen["weekdays"]
    return {"schedule_id": chosen["id"], "source": source, "working": working,
            "variant_id": variant["id"] if variant else None, "work_start": start, "work_end": end}


# --- generators ------------------------------------------------------------------------------------
days = st.integers(0, (LAST - FIRST).days).map(lambda n: FIRST + timedelta(n))


@st.composite
def specs(draw, i: int) -> dict:
    scope = draw(st.sampled_from(["group", "unit", "office", "agency"]))
    value = draw(st.sampled_from({"group": ["guru", "shift"], "unit": ["u1", "u2"], "office": ["o1", "o2"],
                                  "agency": [None]}[scope]))
    lo, hi = draw(st.one_of(st.none(), days)), draw(st.one_of(st.none(), days))
    if lo and hi and hi < lo:
        lo, hi = hi, lo
    start = draw(st.sampled_from([420, 450, 480]))
    length = draw(st.sampled_from([390, 450, 510]))
    spec = {"id": f"s{i}", "name": f"S {i}", "weekdays": sorted(draw(st.sets(st.integers(0, 6), min_size=1))),
            "applies_to": {SCOPE_KEYS[scope]: [value]} if value else {},
            "valid_from": lo.isoformat() if lo else None, "valid_to": hi.isoformat() if hi else None,
            "hours": {"default": {"start": hm(start), "end": hm(start + length)},
                      "4": {"start": hm(start), "end": hm(start + length + 30), "break_minutes": 90}},
            "checkin_window": ["06:00", "10:00"], "checkout_window": ["12:00", "20:00"],
            "seasonal": draw(st.booleans())}
    if draw(st.booleans()):
        spec["flexible"] = {"start_window": ["07:00", "08:30"]}
    if draw(st.booleans()):
        v0 = draw(days)
        spec["variants"] = [{"id": f"v{i}", "name": "V", "valid_from": v0.isoformat(),
                             "valid_to": (v0 + timedelta(draw(st.integers(0, 40)))).isoformat(),
                             "hours": {"default": {"start": "08:00", "end": "14:00", "break_minutes": 30}}}]
    return spec


documents = st.integers(0, 5).flatmap(lambda n: st.tuples(*(specs(i) for i in range(n)))).map(
    lambda ss: {"schedules": list(ss), "seasons": default_document()["seasons"]})
employees = st.tuples(st.sampled_from([None, "u1", "u2"]), st.sampled_from([None, "guru", "shift"]),
                      st.sampled_from(["o1", "o2"]), st.sampled_from([None, "51", "31"]))
OFFICE_RULES = {"timezone": "Asia/Makassar", "work_start": "07:45", "work_end": "16:15"}


@settings(PROFILE)
@given(documents, employees, days)
def test_effective_day_agrees_with_the_oracle(doc, who, d):
    """Precedence group > unit > office > agency-wide > the office's rules, validity dates, own
    variants before seasons, weekdays, holidays (regional ones of the office's province)."""
    unit, group, office_id, province = who
    got = effective_day(doc, Person(unit, group, office_id), Place(office_id, OFFICE_RULES, province), CALENDAR, d)
    want = oracle(doc, unit, group, office_id, province, OFFICE_RULES, d)
    assert got.schedule_id == want["schedule_id"]
    assert got.working == want["working"], got.reason
    assert got.variant_id == want["variant_id"]
    assert got.rules.work_start == want["work_start"]
    assert got.rules.end_on(d).strftime("%H:%M") == want["work_end"], (doc, who, d)
    if "source" in want:
        assert got.source == want["source"]
    assert got.reason_data()["schedule_id"] == want["schedule_id"]  # every decision names it


@settings(PROFILE)
@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
       st.sampled_from(sorted(ZONES)))
def test_the_local_date_is_the_offices_not_utcs(naive, tz):
    """The effective day of an instant is that of the office's local date (UTC + 7/8/9, no DST)."""
    now = naive.replace(tzinfo=timezone.utc)
    doc = {"schedules": [{"id": "std", "name": "Std"}]}
    got = effective_day_at(doc, Person(), Place("o", {"timezone": tz}), CALENDAR, now)
    assert got.local_date == (naive + timedelta(hours=ZONES[tz])).date()


def test_a_wit_office_at_2330_utc_is_already_the_next_local_day():
    # Given a WIT (UTC+9) office and a Friday 23:30 UTC
    now = datetime(2026, 4, 2, 23, 30, tzinfo=timezone.utc)  # Thursday in UTC
    # When its effective day is asked
    got = effective_day_at({"schedules": [{"id": "std", "name": "Std"}]}, Person(),
                           Place("o", {"timezone": "Asia/Jayapura"}), CALENDAR, now)
    # Then it is Friday 3 April 2026 locally (Good Friday: a national holiday), not Thursday
    assert got.local_date == date(2026, 4, 3)
    assert (got.working, got.reason) == (False, "national_holiday")


@settings(PROFILE)
@given(st.integers(0, 90), st.integers(0, 600))
def test_flexible_start_lateness_and_required_hours(arrive, stay):
    """Lateness counts past the start window's end; the check-out is early before check-in +
    the day's required time (end - start)."""
    doc = {"schedules": [{"id": "flex", "name": "Flex", "flexible": {"start_window": ["07:00", "08:30"]},
                          "checkout_window": ["15:00", "20:00"]}]}
    got = effective_day(doc, Person(), Place("o", {"timezone": "Asia/Jakarta"}), CALENDAR, date(2026, 4, 7))
    assert got.rules.work_start == "08:30" and got.required_minutes == 510  # 07:30-16:00
    checkin = time(*divmod(420 + arrive, 60))
    end = got.checkout_rules(checkin).end_on(got.local_date)
    assert end.hour * 60 + end.minute == min(420 + arrive + 510, 20 * 60)


# --- Ramadan and the arithmetic ----------------------------------------------------------------
def test_the_national_and_ramadan_weeks_add_up():
    assert weekly_net_minutes(NATIONAL_HOURS) == 37.5 * 60
    assert weekly_net_minutes(RAMADAN_HOURS) == 32.5 * 60


@pytest.mark.parametrize("season", default_document()["seasons"], ids=lambda s: s["id"])
def test_the_seeded_ramadan_ends_the_day_before_the_packages_idul_fitri(season):
    first, last = date.fromisoformat(season["valid_from"]), date.fromisoformat(season["valid_to"])
    fitri = min(d for d, n in holidays.country_holidays("ID", years=last.year).items()
                if n.startswith("Hari Raya Idul Fitri"))
    assert last + timedelta(1) == fitri
    assert 29 <= (last - first).days + 1 <= 30  # a lunar month


STD = {"schedules": [{"id": "std", "name": "Standard"}], "seasons": default_document()["seasons"]}


@pytest.mark.parametrize("d,variant,start,end", [
    (date(2026, 2, 18), None, "07:30", "16:00"),           # the day before 1 Ramadan 1447
    (date(2026, 2, 19), "ramadan-2026", "08:00", "15:00"),  # the first day (a Thursday)
    (date(2026, 3, 20), "ramadan-2026", "08:00", "15:30"),  # the last day (a Friday)
    (date(2026, 3, 21), None, "07:30", "16:00"),           # Idul Fitri
    (date(2027, 2, 7), None, "07:30", "16:00"),
    (date(2027, 2, 8), "ramadan-2027", "08:00", "15:00"),
    (date(2027, 3, 9), "ramadan-2027", "08:00", "15:00"),
    (date(2027, 3, 10), None, "07:30", "16:00"),
])
def test_ramadan_boundaries(d, variant, start, end):
    got = effective_day(STD, Person(), Place("o", {"timezone": "Asia/Jakarta"}), CALENDAR, d)
    assert (got.variant_id, got.rules.work_start, got.rules.end_on(d).strftime("%H:%M")) == (variant, start, end)


def test_without_schedules_every_office_keeps_its_rules_even_in_ramadan():
    got = effective_day(default_document(), Person("u1", "guru", "o1"),
                        Place("o1", OFFICE_RULES), CALENDAR, date(2026, 3, 3))
    assert (got.schedule_id, got.variant_id, got.rules.work_start) == ("office_rules", None, "07:45")


def test_a_regional_holiday_is_not_a_working_day_in_its_province_only():
    doc = {"schedules": [{"id": "std", "name": "Std"}]}
    bali = effective_day(doc, Person(), Place("o", {"timezone": "Asia/Makassar"}, "51"), CALENDAR, date(2026, 3, 3))
    jakarta = effective_day(doc, Person(), Place("o", {"timezone": "Asia/Jakarta"}, "31"), CALENDAR, date(2026, 3, 3))
    assert (bali.working, bali.reason, jakarta.working) == (False, "regional_holiday", True)


def test_saturday_is_a_working_day_of_a_six_day_schedule_and_tuesday_not_of_a_mwf_one():
    doc = {"schedules": [{"id": "guru", "name": "Guru", "applies_to": {"groups": ["guru"]},
                          "weekdays": [0, 1, 2, 3, 4, 5]},
                         {"id": "mwf", "name": "MWF", "applies_to": {"units": ["klinik"]}, "weekdays": [0, 2, 4]}]}
    place = Place("o", {"timezone": "Asia/Jakarta"})
    sat = effective_day(doc, Person(group="guru"), place, CALENDAR, date(2026, 4, 11))
    tue = effective_day(doc, Person(unit="klinik"), place, CALENDAR, date(2026, 4, 7))
    other = effective_day(doc, Person(), place, CALENDAR, date(2026, 4, 11))
    assert (sat.working, sat.source) == (True, "group")
    assert (tue.working, tue.reason) == (False, "not_a_schedule_day")
    assert (other.working, other.reason, other.schedule_id) == (False, "weekend", "office_rules")


# --- the document's rules ------------------------------------------------------------------------
def problems(doc) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as e:
        parse_schedules(doc)
    assert e.value.code == "invalid_schedules"
    return [(p["field"], p["code"]) for p in e.value.details["problems"]]


@pytest.mark.parametrize("doc,expected", [
    ({"schedules": "x"}, ("schedules", "not_a_list")),
    ({"schedules": [{"id": "A!", "name": "x"}]}, ("schedules[0].id", "not_an_id")),
    ({"schedules": [{"id": "ab", "name": "x"}, {"id": "ab", "name": "y"}]}, ("schedules", "duplicate_id")),
    ({"schedules": [{"id": "ab", "name": "x", "weekdays": [7]}]}, ("schedules[0].weekdays", "not_weekdays")),
    ({"schedules": [{"id": "ab", "name": "x", "valid_from": "2026-05-01", "valid_to": "2026-04-01"}]},
     ("schedules[0].valid_to", "before_valid_from")),
    ({"schedules": [{"id": "ab", "name": "x", "hours": {"default": {"start": "16:00", "end": "08:00"}}}]},
     ("schedules[0].hours.default", "start_not_before_end")),
    ({"schedules": [{"id": "ab", "name": "x", "hours": {"default": {"start": "07:30", "end": "16:00",
                                                                    "break_minutes": 600}}}]},
     ("schedules[0].hours.default.break_minutes", "out_of_range")),
    ({"schedules": [{"id": "ab", "name": "x", "checkin_window": ["06:00", "11:00"]}]},
     ("schedules[0].hours.checkin_window", "closes_after_absence_run")),
    ({"schedules": [{"id": "ab", "name": "x", "hours": {"default": {"start": "05:00", "end": "13:00"}}}]},
     ("schedules[0].hours.0", "before_checkin_window")),
    ({"schedules": [{"id": "ab", "name": "x", "applies_to": {"teams": ["x"]}}]},
     ("schedules[0].applies_to", "unknown_scope")),
    ({"schedules": [{"id": "ab", "name": "x", "flexible": {}}]}, ("schedules[0].flexible.start_window", "required")),
    ({"seasons": [{"id": "r1", "name": "a", "valid_from": "2026-02-01", "valid_to": "2026-02-10", "hours": {}},
                  {"id": "r2", "name": "b", "valid_from": "2026-02-10", "valid_to": "2026-02-20", "hours": {}}]},
     ("seasons", "overlapping_ranges")),
])
def test_a_bad_document_names_its_problem(doc, expected):
    assert expected in problems(doc)


def test_the_default_document_is_valid_and_the_absence_run_agrees_with_resources():
    assert parse_schedules(default_document()).schedules == ()
    assert sch.ABSENCE_RUN == "%02d:%02d" % ABSENCE_LOCAL_TIME
