"""/admin/config/schedules and the effective schedule at check-in and in absence detection (issue 12):
admins only, versioned, audited; Ramadan hours, a flexible start, a group's six-day week, and a
regional holiday of the office's province."""
import copy

import pytest

from local.seed import OFFICES
from tests.api.helpers import ANDI, AYU, KETUT, check_in, checkin_session, enrol, location

JAKARTA = {"lat": -6.17545, "lon": 106.82722}
STANDARD = {"id": "standar", "name": "Jam kerja nasional"}  # agency-wide, the national hours


def run(handler_name):
    from chalicelib.api.events import HANDLERS
    return HANDLERS[handler_name]({})


def defaults(api):
    return api.get("/admin/config/schedules", user="admin").json["document"]


def put(api, schedules, version=None, user="admin", seasons=None):
    doc = {"schedules": schedules, "source": "test"}
    if seasons is not None:
        doc["seasons"] = seasons
    return api.put("/admin/config/schedules", {"version": version, "document": doc}, user=user)


def reason(body, code):
    return next((r for r in body["reasons"] if r["code"] == code), None)


# --- the route -------------------------------------------------------------------------------------
def test_nothing_stored_shows_no_schedule_and_the_ramadan_seasons(api):
    r = api.get("/admin/config/schedules", user="admin")
    assert r.status_code == 200, r.json
    assert (r.json["kind"], r.json["version"], r.json["stored"]) == ("schedules", None, False)
    assert r.json["document"]["schedules"] == []
    assert [s["id"] for s in r.json["document"]["seasons"]] == ["ramadan-2026", "ramadan-2027"]


def test_an_admin_sets_schedules_then_changes_them_with_the_version_read(api):
    first = put(api, [STANDARD])
    assert first.status_code == 200, first.json
    assert (first.json["version"], first.json["updated_by"]) == (1, "admin")
    assert put(api, [STANDARD, {"id": "guru", "name": "Guru", "applies_to": {"groups": ["guru"]}}],
               version=1).json["version"] == 2
    # And a stale version is 409 config_changed, version 2 standing
    stale = put(api, [], version=1)
    assert stale.status_code == 409 and stale.json["error"]["code"] == "config_changed"
    assert len(api.get("/admin/config/schedules", user="admin").json["document"]["schedules"]) == 2
    # And each change is audited
    log = api.get("/audit/log?subject=config%23schedules", user="auditor").json["entries"]
    assert [e["after"] for e in log] == [{"version": 1}, {"version": 2}]


@pytest.mark.parametrize("user", ["supervisor", "employee", "auditor"])
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_only_admins_read_or_set_the_schedules(api, user, method):
    who = {"supervisor": KETUT, "employee": AYU, "auditor": "auditor"}[user]
    body = {"version": None, "document": {"schedules": [STANDARD]}}
    r = api.call(method, "/admin/config/schedules", body if method == "PUT" else None, user=who)
    assert r.status_code == 403, r.json
    assert api.get("/admin/config/schedules", user="admin").json["stored"] is False


@pytest.mark.parametrize("schedule, field, code", [
    ({**STANDARD, "hours": {"default": {"start": "05:00", "end": "13:00"}}}, "schedules[0].hours.0",
     "before_checkin_window"),
    ({**STANDARD, "checkin_window": ["06:00", "11:00"]}, "schedules[0].hours.checkin_window",
     "closes_after_absence_run"),
    ({**STANDARD, "valid_from": "2026-05-01", "valid_to": "2026-04-01"}, "schedules[0].valid_to", "before_valid_from"),
    ({**STANDARD, "hours": {"9": {"start": "07:00", "end": "15:00"}}}, "schedules[0].hours.9", "not_a_weekday"),
])
def test_a_bad_schedule_is_422_invalid_schedules_with_its_problems(api, schedule, field, code):
    r = put(api, [schedule])
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_schedules", r.json
    assert (field, code) in [(p["field"], p["code"]) for p in r.json["error"]["details"]["problems"]]
    assert api.get("/admin/config/schedules", user="admin").json["stored"] is False


@pytest.mark.parametrize("body", [
    {"version": None, "document": {"schedules": [{**STANDARD, "checkin_window": ["6:00", "10:00"]}]}},
    {"version": None, "document": {"schedules": [{**STANDARD, "weekdays": [7]}]}},
    {"version": None, "document": {"schedules": [{**STANDARD, "id": "Not An Id"}]}},
    {"version": None, "document": {"schedules": [{**STANDARD, "applies_to": {"groups": "guru"}}]}},
    {"version": None, "document": {"schedules": "all"}},
    {"version": 0, "document": {"schedules": []}},
    {"document": "everything"},
])
def test_malformed_schedule_bodies_are_invalid_schedules(api, body):
    r = api.put("/admin/config/schedules", body, user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] in ("invalid_schedules", "missing_fields"), r.json
    assert api.get("/admin/config/schedules", user="admin").json["stored"] is False


# --- the office's province and the employee's group ------------------------------------------------
def office(office_id, **change):
    body = copy.deepcopy(next(o for o in OFFICES if o["office_id"] == office_id))
    return {**body, **change}


@pytest.mark.parametrize("province", ["99", "5", "051", 51])
def test_an_office_province_must_be_a_bps_code(api, province):
    r = api.post("/admin/offices", office("kantor-denpasar", province=province), user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_office", r.json


def test_an_office_keeps_its_province_and_an_import_its_group(api):
    r = api.post("/admin/offices", office("kantor-denpasar", province="51"), user="admin")
    assert r.status_code == 201 and r.json["province"] == "51", r.json
    csv = (f"nip;nama;unit_kerja;kantor;nip_atasan;kelompok\n{AYU};Ni Luh Putu Ayu;Bagian Umum Denpasar;"
           f"kantor-denpasar;{KETUT};guru\n")
    imp = api.post("/admin/employees", raw=csv.encode(), content_type="text/csv", user="admin")
    assert imp.status_code in (200, 201), imp.json
    from chalicelib.wiring import get_services
    assert get_services().records.get_employee(AYU).group == "guru"
    assert get_services().records.get_office("kantor-denpasar").province == "51"


def as_group(api, nip, group):
    from chalicelib.wiring import get_services
    records = get_services().records
    records.put_employee(records.get_employee(nip).model_copy(update={"group": group}), now="2026-01-01T00:00:00Z")


# --- check-in --------------------------------------------------------------------------------------
def attend(api, set_now, nip, iso, where=None):
    set_now(iso)
    lat, lon = (where or {}).get("lat"), (where or {}).get("lon")
    loc = location(captured_at=iso, **({"lat": lat, "lon": lon} if where else {}))
    r = check_in(api, nip, checkin_session(api, nip), loc=loc)
    assert r.status_code == 201, r.json
    return r.json


def test_on_a_ramadan_day_lateness_counts_from_0800(api, set_now):
    # Given the national hours agency-wide with the default Ramadan seasons, and Andi in Jakarta
    put(api, [STANDARD], seasons=defaults(api)["seasons"])
    enrol(api, ANDI)
    # When he checks in at 08:20 WIB on 3 March 2026 (Ramadan 1447)
    body = attend(api, set_now, ANDI, "2026-03-03T08:20:00+07:00", JAKARTA)
    # Then he is 20 minutes late (TL1), from 08:00, not 50 from the usual 07:30
    assert (reason(body, "late")["minutes"], reason(body, "late")["work_start"]) == (20, "08:00")
    assert {"schedule_id": "standar", "variant_id": "ramadan-2026", "source": "agency"}.items() <= \
        reason(body, "schedule").items()


def test_a_flexible_employee_is_not_late_at_0815(api, set_now):
    # Given Andi's unit works a flexible start 07:00-08:30
    put(api, [{"id": "fleksibel", "name": "Fleksibel", "applies_to": {"units": ["Perwakilan Jakarta"]},
               "flexible": {"start_window": ["07:00", "08:30"]}, "seasonal": False}])
    enrol(api, ANDI)
    # When he checks in at 08:15 WIB on an ordinary Tuesday
    body = attend(api, set_now, ANDI, "2026-04-07T08:15:00+07:00", JAKARTA)
    # Then he is on time, by the unit's schedule
    assert reason(body, "late") is None and reason(body, "on_time")["work_start"] == "08:30"
    assert (reason(body, "schedule")["schedule_id"], reason(body, "schedule")["source"]) == ("fleksibel", "unit")
    # And a check-out at 16:30 is early: 08:15 + 8 h 30 min is 16:45
    set_now("2026-04-07T16:30:00+07:00")
    out = check_in(api, ANDI, checkin_session(api, ANDI), kind="out",
                   loc=location(captured_at="2026-04-07T16:30:00+07:00", **JAKARTA)).json
    assert (reason(out, "early_leave")["minutes"], reason(out, "early_leave")["work_end"]) == (15, "16:45")


def test_a_teachers_saturday_is_a_working_day(api, set_now):
    # Given teachers work a six-day week, and Ayu is a teacher, Ketut not
    put(api, [{"id": "guru", "name": "Guru", "applies_to": {"groups": ["guru"]}, "weekdays": [0, 1, 2, 3, 4, 5],
               "hours": {"default": {"start": "07:00", "end": "13:00", "break_minutes": 30}},
               "checkin_window": ["06:00", "08:00"], "checkout_window": ["12:00", "18:00"]}])
    as_group(api, AYU, "guru")
    enrol(api, AYU)
    enrol(api, KETUT)
    # When both check in on Saturday 11 April 2026 at 06:55 WITA
    ayu = attend(api, set_now, AYU, "2026-04-11T06:55:00+08:00")
    # Then Ayu's is an ordinary, on-time working day by the group's schedule
    assert reason(ayu, "weekend") is None and reason(ayu, "on_time")["work_start"] == "07:00"
    assert reason(ayu, "schedule")["source"] == "group"
    # And Ketut's Saturday is a weekend (his office's own rules), flagged
    ketut = attend(api, set_now, KETUT, "2026-04-11T06:56:00+08:00")
    assert reason(ketut, "weekend")["effect"] == "flag"
    assert reason(ketut, "schedule")["schedule_id"] == "office_rules"


# --- absence detection -----------------------------------------------------------------------------
def test_no_absence_on_a_regional_holiday_of_the_offices_province(api, set_now, tap):
    # Given Denpasar is in Bali (51), whose regional holiday 8 April 2026 is in the calendar
    api.post("/admin/offices", office("kantor-denpasar", province="51"), user="admin")
    cal = api.get("/admin/config/calendar", user="admin").json["document"]
    cal["years"]["2026"]["regional_holidays"] = {"51": [{"date": "2026-04-08", "name": "Hari Raya Galungan"}]}
    assert api.put("/admin/config/calendar", {"version": None, "document": cal}, user="admin").status_code == 200
    # When absence detection runs after the check-in window that day
    set_now("2026-04-08T10:30:00+08:00")
    report = run("detect_absence_wita")
    # Then nobody in Denpasar is absent
    assert report["absent"] == 0, report
    assert next(o for o in report["offices"] if o["office_id"] == "kantor-denpasar")["not_working"] == 3
    # And on the next, ordinary day they are, each absence naming the schedule applied
    set_now("2026-04-09T10:30:00+08:00")
    assert run("detect_absence_wita")["absent"] > 0
    from chalicelib.wiring import get_services
    day = get_services().records.day(AYU, "2026-04-09")
    assert {"code": "schedule", "schedule_id": "office_rules"}.items() <= next(
        r for r in day.day.reasons if r["code"] == "schedule").items()
