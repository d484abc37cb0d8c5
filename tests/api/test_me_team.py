"""GET /me, /me/attendance and /team/attendance."""
from tests.api.helpers import ANDI, AYU, BUDI, KETUT, MADE, check_in, checkin_session, enrol


def test_me_shows_profile_offices_and_enrolment(api):
    r = api.get("/me", user=AYU)
    assert r.status_code == 200
    assert r.json["nip"] == AYU and r.json["supervisor_nip"] == KETUT
    assert r.json["offices"][0]["timezone"] == "Asia/Makassar"
    assert r.json["enrollment"]["status"] == "not_enrolled"


def test_my_attendance_lists_each_day_with_its_status(api, set_now):
    set_now("2026-03-09T07:50:00+08:00")  # Monday
    assert enrol(api, AYU).status_code == 201
    assert check_in(api, AYU, checkin_session(api, AYU),
                    loc={"lat": -8.67052, "lon": 115.21263, "accuracy_m": 5,
                         "captured_at": "2026-03-09T07:49:50+08:00", "is_mock": False}).status_code == 201
    r = api.get("/me/attendance?from=2026-03-06&to=2026-03-09", user=AYU)
    assert r.status_code == 200
    statuses = {d["date"]: d["status"] for d in r.json["days"]}
    assert statuses == {"2026-03-06": "no_record", "2026-03-07": "weekend", "2026-03-08": "weekend",
                        "2026-03-09": "present"}


def test_attendance_range_is_validated(api):
    r = api.get("/me/attendance?from=2026-03-09&to=2026-03-01", user=AYU)
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_range"
    r = api.get("/me/attendance?from=yesterday", user=AYU)
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_date"


def test_supervisor_sees_only_own_staff(api):
    r = api.get("/team/attendance?date=2026-03-03", user=KETUT)
    assert r.status_code == 200
    assert sorted(s["nip"] for s in r.json["staff"]) == sorted([AYU, MADE])
    other = api.get("/team/attendance?date=2026-03-03", user=BUDI).json
    assert [s["nip"] for s in other["staff"]] == [ANDI]


def test_the_team_view_on_a_weekend_shows_weekend_not_no_record(api, set_now):
    set_now("2026-03-07T10:00:00+08:00")  # a Saturday
    r = api.get("/team/attendance?date=2026-03-07", user="197805122005011002")
    assert r.status_code == 200 and {s["status"] for s in r.json["staff"]} == {"weekend"}
