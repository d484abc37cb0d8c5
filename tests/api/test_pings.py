"""Whereabouts during working hours (issue 13, Denpasar and Bolmong): pings only in working hours,
rate-limited and expiring; an out-of-region episode raises one alert; who is where now."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from chalicelib import wiring
from chalicelib.adapters.memory.blobs import InMemoryNotifier
from chalicelib.adapters.storage.models import PingModel
from tests.api.helpers import ANDI, AYU, BUDI, DENPASAR, KETUT, MADE, location

TUESDAY_10 = "2026-03-03T10:00:00+08:00"  # Denpasar works 08:00-15:30 WITA
REGION = {"type": "Polygon", "coordinates": [[[115.15, -8.75], [115.30, -8.75], [115.30, -8.58],
                                              [115.15, -8.58], [115.15, -8.75]]]}  # Kota Denpasar, roughly
UBUD = {"lat": -8.5069, "lon": 115.2625}  # Gianyar: about 8 km beyond the boundary
HOME = {"lat": -8.6500, "lon": 115.2300}


def ping(api, nip=AYU, at=DENPASAR, accuracy_m=8, is_mock=False, **kw):
    return api.post("/me/pings", {"location": location(lat=at["lat"], lon=at["lon"], accuracy_m=accuracy_m,
                                                       is_mock=is_mock)}, user=nip, **kw)


def pings_stored(nip=AYU) -> list[PingModel]:
    return list(PingModel.query(nip))


@pytest.fixture
def alerts():
    notifier = InMemoryNotifier()
    wiring.configure(**{**wiring._overrides, "notifier": notifier})
    return notifier


def given_region(api):
    r = api.put("/admin/config/region", {"version": None, "document": {"name": "Kota Denpasar", "boundary": REGION}},
                user="admin")
    assert r.status_code == 200, r.json


def episode_alerts(notifier) -> list[dict]:
    return [p for p in notifier.published if p["notice"].get("kind") == "episode_alert"]


# --- working hours -----------------------------------------------------------------------------
@pytest.mark.parametrize("at, code", [
    ("2026-03-03T07:59:00+08:00", "outside_working_hours"),  # before 08:00
    ("2026-03-03T15:30:00+08:00", "outside_working_hours"),  # the day has ended
    ("2026-03-03T21:00:00+08:00", "outside_working_hours"),
    ("2026-03-07T10:00:00+08:00", "not_a_working_day"),  # Saturday
])
def test_a_ping_outside_working_hours_is_refused_and_nothing_is_stored(api, set_now, at, code):
    # Given
    set_now(at)
    # When
    r = ping(api)
    # Then
    assert r.status_code == 409, r.json
    assert r.json["error"]["code"] == code
    assert pings_stored() == []


def test_a_ping_in_working_hours_is_stored_with_a_ttl_from_the_retention(api, set_now, setting):
    # Given
    setting("HADIR_PING_RETENTION_DAYS", "3")
    set_now(TUESDAY_10)
    # When
    r = ping(api)
    # Then
    assert r.status_code == 201, r.json
    assert r.json["outside"] is False and r.json["local_date"] == "2026-03-03"
    items = {m.sk.split("#")[0]: m for m in pings_stored()}
    expected = datetime.fromisoformat(TUESDAY_10) + timedelta(days=3)
    assert items["PING"].ttl == expected and items["STATE"].ttl == expected


def test_pings_are_rate_limited_per_employee(api, set_now):
    # Given
    clock = set_now(TUESDAY_10)
    assert ping(api).status_code == 201
    # When
    clock.advance(seconds=20)
    too_soon = ping(api)
    other = ping(api, nip=MADE)
    clock.advance(seconds=41)
    later = ping(api)
    # Then
    assert too_soon.status_code == 429 and too_soon.json["error"]["code"] == "ping_too_soon"
    assert too_soon.headers["Retry-After"] == "40"
    assert other.status_code == 201 and later.status_code == 201
    assert len([m for m in pings_stored() if m.sk.startswith("PING#")]) == 2


def test_an_employee_on_approved_leave_is_not_tracked(api, set_now):
    # Given: approved annual leave today
    set_now("2026-03-02T09:00:00+08:00")
    r = api.post("/me/requests", {"type": "leave", "subtype": "annual", "start": "2026-03-03", "end": "2026-03-03",
                                  "reason": "upacara keluarga"}, user=AYU)
    assert r.status_code == 201, r.json
    assert api.post(f"/team/requests/{r.json['request_id']}", {"decision": "approve"}, user=KETUT).status_code == 200
    set_now(TUESDAY_10)
    # When
    refused = ping(api)
    # Then
    assert refused.status_code == 409 and refused.json["error"]["code"] == "on_approved_leave"
    assert pings_stored() == []


@pytest.mark.parametrize("body, code", [
    ({"location": {"lat": 91, "lon": 115.2, "accuracy_m": 5, "captured_at": "2026-03-03T10:00:00+08:00"}},
     "invalid_coordinates"),
    ({"location": {"lat": "x", "lon": 115.2, "accuracy_m": 5, "captured_at": "2026-03-03T10:00:00+08:00"}},
     "invalid_coordinates"),
    ({"location": {"lat": -8.6, "lon": 115.2, "accuracy_m": -1, "captured_at": "2026-03-03T10:00:00+08:00"}},
     "invalid_accuracy"),
    ({"location": {"lat": -8.6, "lon": 115.2, "accuracy_m": 5, "captured_at": "yesterday"}}, "invalid_captured_at"),
])
def test_malformed_pings_are_refused_and_nothing_is_stored(api, set_now, body, code):
    set_now(TUESDAY_10)
    r = api.post("/me/pings", body, user=AYU)
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == code
    assert pings_stored() == []


def test_an_oversized_ping_is_refused(api, set_now):
    set_now(TUESDAY_10)
    r = api.call("POST", "/me/pings", user=AYU, raw=b'{"location": {"pad": "' + b"x" * 3_000_000 + b'"}}')
    assert r.status_code == 413, r.json
    assert pings_stored() == []


# --- episodes ----------------------------------------------------------------------------------
def test_many_outside_pings_are_one_episode_and_one_alert_closed_when_back(api, set_now, alerts):
    # Given
    clock = set_now(TUESDAY_10)
    given_region(api)
    # When: five pings outside, one minute apart, then one back inside
    outside = []
    for _ in range(5):
        outside.append(ping(api, at=UBUD))
        clock.advance(seconds=61)
    back = ping(api)
    # Then
    assert [r.status_code for r in outside] == [201] * 5
    assert outside[0].json["episode"]["opened"] is True and outside[0].json["kind"] == "outside_region"
    assert all(r.json["episode"]["opened"] is False for r in outside[1:])
    assert len({r.json["episode"]["episode_id"] for r in outside}) == 1
    assert back.json["closed_episode_id"] == outside[0].json["episode"]["episode_id"]
    assert len(episode_alerts(alerts)) == 1
    notice = episode_alerts(alerts)[0]["notice"]
    assert notice["nip"] == AYU and notice["supervisor_nip"] == KETUT
    # And the supervisor sees the episode with its pings as evidence
    listed = api.get("/team/episodes?date=2026-03-03", user=KETUT).json["episodes"]
    assert len(listed) == 1 and listed[0]["pings"] == 5 and listed[0]["closed_at"] is not None
    assert len(listed[0]["evidence"]) == 6
    assert listed[0]["first"]["reasons"][0]["code"] == "outside_region"


def test_concurrent_outside_pings_raise_one_alert(api, set_now, setting, alerts):
    # Given: no rate limit, so every ping races for the episode
    setting("HADIR_PING_MIN_INTERVAL_S", "0")
    wiring.configure(**{**wiring._overrides, "notifier": alerts})
    set_now(TUESDAY_10)
    given_region(api)
    from chalicelib.services import pings
    from chalicelib.services.schemas_whereabouts import PingRequest
    svc = wiring.get_services()
    body = PingRequest.model_validate({"location": location(lat=UBUD["lat"], lon=UBUD["lon"])})
    results, errors = [], []

    def one():
        try:
            results.append(pings.ping(svc, AYU, body))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    # When
    threads = [threading.Thread(target=one) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    # Then
    assert len(results) + len(errors) == 8
    assert sum(1 for r in results if r.episode and r.episode.opened) == 1
    assert len(episode_alerts(alerts)) == 1


def test_an_approved_leave_region_suppresses_the_episode(api, set_now, alerts):
    # Given: permission to leave the region today
    set_now("2026-03-03T08:30:00+08:00")
    given_region(api)
    r = api.post("/me/requests", {"type": "leave_region", "start": "2026-03-03", "end": "2026-03-03",
                                  "reason": "menjenguk orang tua di Gianyar"}, user=AYU)
    assert r.status_code == 201, r.json
    assert api.post(f"/team/requests/{r.json['request_id']}", {"decision": "approve"}, user=KETUT).status_code == 200
    set_now(TUESDAY_10)
    # When
    out = ping(api, at=UBUD)
    # Then
    assert out.status_code == 201 and out.json["outside"] is False and out.json["episode"] is None
    assert {x["code"] for x in out.json["reasons"]} >= {"outside_region", "permitted"}
    assert episode_alerts(alerts) == []
    assert api.get("/team/episodes?date=2026-03-03", user=KETUT).json["episodes"] == []


def test_a_mock_location_is_flagged_and_never_closes_an_episode(api, set_now, alerts):
    clock = set_now(TUESDAY_10)
    given_region(api)
    opened = ping(api, at=UBUD).json["episode"]
    clock.advance(seconds=61)
    # When: a mocked fix claims to be back in the office
    r = ping(api, is_mock=True)
    # Then
    assert r.status_code == 201 and r.json["closed_episode_id"] is None
    assert r.json["reasons"][0]["code"] == "mock_location"
    listed = api.get("/team/episodes?date=2026-03-03", user=KETUT).json["episodes"]
    assert listed[0]["episode_id"] == opened["episode_id"] and listed[0]["closed_at"] is None


def test_an_impossible_jump_between_pings_is_flagged(api, set_now):
    clock = set_now(TUESDAY_10)
    assert ping(api).status_code == 201
    clock.advance(seconds=120)
    r = ping(api, at={"lat": -8.1, "lon": 115.1})  # about 64 km in two minutes
    assert "impossible_travel" in {x["code"] for x in r.json["reasons"]}


# --- region config -----------------------------------------------------------------------------
def test_an_invalid_region_is_refused_with_its_problems(api):
    bad = {"type": "Polygon", "coordinates": [[[115.1, -8.7], [115.3, -8.7], [115.3, -8.5]]]}
    r = api.put("/admin/config/region", {"version": None, "document": {"boundary": bad}}, user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_region"
    assert api.get("/admin/config/region", user="admin").json["version"] is None


def test_only_admins_set_the_region(api):
    for user in (KETUT, AYU):
        r = api.put("/admin/config/region", {"version": None, "document": {"boundary": REGION}}, user=user)
        assert r.status_code == 403


# --- who is where, now; role boundaries --------------------------------------------------------
def test_a_supervisor_sees_their_own_staff_now_with_reasons(api, set_now):
    clock = set_now(TUESDAY_10)
    given_region(api)
    assert ping(api, at=UBUD).status_code == 201
    assert ping(api, nip=MADE).status_code == 201
    clock.advance(minutes=20)
    ping(api, nip=MADE)
    # When
    r = api.get("/team/now", user=KETUT)
    # Then
    assert r.status_code == 200, r.json
    by_nip = {s["nip"]: s for s in r.json["staff"]}
    assert ANDI not in by_nip
    assert by_nip[AYU]["state"] == "outside_region" and by_nip[AYU]["online"] is False
    assert by_nip[MADE]["online"] is True
    assert {x["code"] for x in by_nip[AYU]["reasons"]} >= {"day", "open_episode", "offline"}


def test_a_supervisor_never_sees_another_units_episodes_or_staff(api, set_now):
    set_now(TUESDAY_10)
    given_region(api)
    ping(api, at=UBUD)
    assert api.get("/team/episodes?date=2026-03-03", user=BUDI).json["episodes"] == []
    assert AYU not in {s["nip"] for s in api.get("/team/now", user=BUDI).json["staff"]}
    everyone = api.get("/team/episodes?date=2026-03-03", user="admin").json["episodes"]
    assert [e["nip"] for e in everyone] == [AYU]


def test_an_employee_cannot_read_team_routes(api, set_now):
    set_now(TUESDAY_10)
    assert api.get("/team/now", user=AYU).status_code == 403
    assert api.get("/team/episodes", user=AYU).status_code == 403


def test_an_admin_sees_now_one_unit_at_a_time(api, set_now):
    set_now(TUESDAY_10)
    # When the admin names a unit, then its staff only (by NIP), each of that unit
    one = api.get("/team/now?unit=Bagian Umum Denpasar", user="admin").json["staff"]
    assert AYU in {s["nip"] for s in one} and {s["unit"] for s in one} == {"Bagian Umum Denpasar"}
    assert [s["nip"] for s in one] == sorted(s["nip"] for s in one)
    assert api.get("/team/now?unit=No such unit", user="admin").json["staff"] == []
    # And without a unit: 422 unit_required (the agency's staff is never one response)
    r = api.get("/team/now", user="admin")
    assert (r.status_code, r.json["error"]["code"]) == (422, "unit_required")


def test_on_a_wfh_day_the_home_is_expected_even_outside_the_region(api, set_now, alerts):
    # Given: Made lives in Tabanan (outside Kota Denpasar) and works from home today
    clock = set_now("2026-03-03T08:10:00+08:00")
    given_region(api)
    r = api.post("/me/requests", {"type": "wfh", "start": "2026-03-03", "end": "2026-03-03",
                                  "reason": "WFH atas penugasan"}, user=MADE)
    assert r.status_code == 201, r.json
    assert api.post(f"/team/requests/{r.json['request_id']}", {"decision": "approve"}, user=KETUT).status_code == 200
    clock.set(datetime.fromisoformat(TUESDAY_10))
    # When: a ping at home, then one in Denpasar's office
    at_home = ping(api, nip=MADE, at={"lat": -8.54052, "lon": 115.12503})
    clock.advance(seconds=61)
    away = ping(api, nip=MADE)
    # Then
    assert at_home.json["outside"] is False and at_home.json["episode"] is None
    assert away.json["kind"] == "away_from_home" and away.json["episode"]["opened"] is True
    assert away.json["reasons"][-1]["site_id"] == "rumah-made-tabanan"
    assert len(episode_alerts(alerts)) == 1


def test_an_episode_left_open_when_the_day_ended_is_closed_by_the_next_days_ping(api, set_now, alerts):
    # Given Ayu left the region on Tuesday afternoon and sent no ping back inside before 15:30
    clock = set_now("2026-03-03T15:00:00+08:00")
    given_region(api)
    tuesday = ping(api, at=UBUD).json["episode"]
    # When on Wednesday her first ping is outside again
    clock.set(datetime.fromisoformat("2026-03-04T09:00:00+08:00"))
    now_before = {s["nip"]: s for s in api.get("/team/now", user=KETUT).json["staff"]}[AYU]
    wednesday = ping(api, at=UBUD).json["episode"]
    # Then Tuesday's episode is closed at its last ping, Wednesday's is new and alerted anew
    assert now_before["state"] != "outside_region"
    assert wednesday["opened"] is True and wednesday["episode_id"] != tuesday["episode_id"]
    [old] = api.get("/team/episodes?date=2026-03-03", user=KETUT).json["episodes"]
    assert old["closed_at"] == old["last_at"]
    assert len(episode_alerts(alerts)) == 2


def test_a_supervisor_naming_another_unit_still_sees_only_their_own_staff(api, set_now):
    set_now(TUESDAY_10)
    ayu_unit = "Bagian Umum Denpasar"
    r = api.get(f"/team/now?unit={ayu_unit}", user=BUDI)
    assert r.status_code == 200
    assert AYU not in {s["nip"] for s in r.json["staff"]}
    assert ANDI in {s["nip"] for s in r.json["staff"]}


# --- device signals (the check-in's, issue 13: "the same spoof signals as check-ins apply") ---------
AYU_PHONE, OTHER_PHONE = "ayu-phone-7f3a9c", "someone-else-22c1"


def given_bound_phone(api, nip=AYU, device=AYU_PHONE):
    r = api.put(f"/admin/employees/{nip}/device", {"device_id": device, "reason": "issued"}, user="admin")
    assert r.status_code == 200, r.json


def test_a_ping_from_the_bound_phone_carries_no_device_reason(api, set_now):
    set_now(TUESDAY_10)
    given_bound_phone(api)
    r = ping(api, headers={"X-Device-Id": AYU_PHONE})
    assert r.status_code == 201 and "new_device" not in {x["code"] for x in r.json["reasons"]}


def test_a_ping_from_another_phone_or_none_is_flagged_new_device_and_stored_with_it(api, set_now):
    clock = set_now(TUESDAY_10)
    given_bound_phone(api)
    # When one ping comes from another phone, the next without any device id
    other = ping(api, headers={"X-Device-Id": OTHER_PHONE})
    clock.advance(seconds=61)
    none = ping(api)
    # Then both are taken, each flagged new_device with the id it sent, and stored with that reason
    flagged = [next(x for x in r.json["reasons"] if x["code"] == "new_device") for r in (other, none)]
    assert other.status_code == none.status_code == 201
    assert [(f["device_id"], f["effect"]) for f in flagged] == [(OTHER_PHONE, "flag"), (None, "flag")]
    stored = [m.data for m in pings_stored() if m.sk.startswith("PING#")]
    assert [[x["code"] for x in d["reasons"] if x["code"] == "new_device"] for d in stored] == [["new_device"]] * 2


def test_a_ping_with_no_phone_bound_yet_has_no_device_reason(api, set_now):
    set_now(TUESDAY_10)
    r = ping(api, headers={"X-Device-Id": OTHER_PHONE})
    assert r.status_code == 201 and "new_device" not in {x["code"] for x in r.json["reasons"]}


def test_a_malformed_device_id_refuses_the_ping_and_stores_nothing(api, set_now):
    set_now(TUESDAY_10)
    r = ping(api, headers={"X-Device-Id": "x"})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_device_id"
    assert pings_stored() == []
