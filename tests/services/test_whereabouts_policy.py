"""policy/whereabouts.py: the region, working hours and the state now, without any store."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest

from chalicelib.common.errors import InvalidInput
from chalicelib.geo import Circle, Position
from chalicelib.policy.whereabouts import NowInputs, judge, on_duty, parse_region, state_now
from chalicelib.policy.schedule import EffectiveDay
from chalicelib.policy.time_rules import OfficeRules

SQUARE = [[115.15, -8.75], [115.30, -8.75], [115.30, -8.58], [115.15, -8.58], [115.15, -8.75]]
HOLE = [[115.20, -8.70], [115.25, -8.70], [115.25, -8.65], [115.20, -8.65], [115.20, -8.70]]
RULES = OfficeRules(timezone="Asia/Makassar", checkin_window=("06:00", "08:00"), work_start="08:00",
                    work_end="15:30", checkout_window=("15:30", "18:00"))


def fix(lat, lon, accuracy_m=10.0):
    return Position(lat=lat, lon=lon, accuracy_m=accuracy_m, captured_at=datetime.now(timezone.utc), is_mock=False)


def day(working=True, reason="working_day", flexible=None):
    return EffectiveDay(date(2026, 3, 3), working, reason, RULES, "office_rules", "office_rules",
                        flexible_start=flexible)


def test_a_region_with_a_hole_and_a_second_polygon():
    region = parse_region({"name": "x", "boundary": {"type": "MultiPolygon", "coordinates": [
        [SQUARE, HOLE], [[[116.0, -8.6], [116.1, -8.6], [116.1, -8.5], [116.0, -8.5], [116.0, -8.6]]]]}})
    assert region.contains(-8.60, 115.16)  # in the square
    assert not region.contains(-8.67, 115.22)  # in the hole
    assert region.contains(-8.55, 116.05)  # in the second polygon
    assert region.distance_outside_m(-8.50, 115.26) == pytest.approx(8850, rel=0.02)


@pytest.mark.parametrize("boundary, problem", [
    ({"type": "Polygon", "coordinates": [SQUARE[:3]]}, "too_few_positions"),
    ({"type": "Polygon", "coordinates": [[*SQUARE[:-1], [115.16, -8.74]]]}, "ring_not_closed"),
    ({"type": "Polygon", "coordinates": [[[100, 0.1], [110, 0.1], [110, 5], [100, 0.1]]]}, "too_large"),
    ({"type": "Point", "coordinates": [115, -8]}, "unsupported_type"),
])
def test_an_invalid_region_names_its_problem(boundary, problem):
    with pytest.raises(InvalidInput) as e:
        parse_region({"boundary": boundary})
    assert e.value.code == "invalid_region"
    assert problem in {p["code"] for p in e.value.details["problems"]}


def test_no_boundary_is_no_region():
    assert parse_region({"name": None, "boundary": None}) is None


@pytest.mark.parametrize("t, refused", [(time(7, 59), "outside_working_hours"), (time(8, 0), None),
                                        (time(15, 29), None), (time(15, 30), "outside_working_hours")])
def test_working_hours_are_start_inclusive_end_exclusive(t, refused):
    r = on_duty(day(), t)
    assert (r["code"] if r else None) == refused


def test_a_flexible_day_starts_at_its_earliest_start_and_a_day_off_is_refused():
    assert on_duty(day(flexible=("07:00", "09:00")), time(7, 5)) is None
    assert on_duty(day(False, "national_holiday"), time(10, 0))["day"] == "national_holiday"


def test_a_poor_fix_near_the_boundary_is_not_outside():
    region = parse_region({"boundary": {"type": "Polygon", "coordinates": [SQUARE]}})
    just_out = fix(-8.5795, 115.2, accuracy_m=100)  # about 55 m beyond the edge, 100 m accuracy
    assert judge(just_out, region, None, None, []).outside is False
    assert judge(fix(-8.5795, 115.2, accuracy_m=10), region, None, None, []).kind == "outside_region"


def test_on_a_wfh_day_the_home_replaces_the_region():
    region = parse_region({"boundary": {"type": "Polygon", "coordinates": [SQUARE]}})
    home = Circle(lat=-8.54, lon=115.125, radius_m=60)
    assert judge(fix(-8.54001, 115.12501), region, home, "rumah", []).outside is False
    v = judge(fix(-8.65, 115.2), region, home, "rumah", [])
    assert v.kind == "away_from_home" and v.reasons[0]["site_id"] == "rumah"


def _now(**kw):
    base = dict(local_date=date(2026, 3, 3), working=True, day_reason="working_day", window_closed=False,
                day_status=None, work_mode=None, requests=(), open_episode=None, last_seen_at=None, online=False)
    return NowInputs(**{**base, **kw})


@pytest.mark.parametrize("kw, state", [
    ({}, "not_checked_in"),
    ({"window_closed": True}, "absent"),
    ({"day_status": "present", "work_mode": "WFO"}, "in_office"),
    ({"day_status": "late", "work_mode": "WFH"}, "at_home"),
    ({"day_status": "pending_review"}, "flagged"),
    ({"requests": ({"request_id": "r", "type": "leave"},)}, "on_leave"),
    ({"requests": ({"request_id": "r", "type": "official_travel"},)}, "on_travel"),
    ({"working": False, "day_reason": "weekend"}, "off_day"),
    ({"day_status": "present", "open_episode": {"episode_id": "e", "kind": "outside_region"}}, "outside_region"),
])
def test_the_state_now_and_its_reasons(kw, state):
    name, reasons = state_now(_now(**kw))
    assert name == state
    assert reasons[0]["code"] == "day" and reasons[-1]["code"] in ("online", "offline")


def test_an_episode_alert_is_emailed_once_to_the_supervisor():
    from chalicelib.common.clock import FixedClock
    from chalicelib.common.settings import load_settings
    from chalicelib.services import notices
    from chalicelib.wiring import in_memory
    from tests.fakes import FakeEngine
    # Given an episode alert as services/pings.py publishes it
    svc = in_memory(load_settings({"HADIR_STAGE": "test", "HADIR_AGENCY_ID": "pemkab-demo",
                                   "HADIR_SES_SENDER": "hadir@example.go.id"}),
                    clock=FixedClock(datetime.fromisoformat("2026-03-03T10:00:00+08:00")),
                    face_engine_provider=FakeEngine)
    notice = {"kind": notices.EPISODE, "nip": "199001152015032001", "name": "Ayu", "supervisor_nip": "1978",
              "supervisor_email": "ketut@example.go.id", "episode_id": "e1", "episode_kind": "outside_region",
              "opened_at": "2026-03-03T02:00:00.000+00:00", "first": {"lat": -8.5, "lon": 115.26, "accuracy_m": 8}}
    # When the e-mail consumer sees it twice
    assert notices.send_email(svc, notice) is True
    assert notices.send_email(svc, notice) is False
    # Then one e-mail went to the supervisor, saying where
    [sent] = svc.notifier.sent
    assert sent["to"] == "ketut@example.go.id" and "outside the region" in sent["body"] and "-8.5" in sent["body"]
