"""Personal sites: admins and supervisors (own staff only) assign a home (WFH), an assignment (DL,
dinas luar) or an anywhere place (WFA); the site a check-in matches decides its work mode."""
import pytest

from tests.api.helpers import ANDI, AYU, BUDI, DENPASAR, KETUT, check_in, checkin_session, enrol, location

HOME = {"lat": -8.6500, "lon": 115.2300}  # about 3 km from the Denpasar office
AT_HOME = {"lat": -8.65002, "lon": 115.23003}  # a fix 4 m from the home's centre (never the centre itself)
SITES = f"/admin/employees/{AYU}/sites"


def site(site_id="rumah-ayu", kind="home", at=HOME, radius_m=80, **extra):
    return {"site_id": site_id, "kind": kind,
            "geofence": {"type": "circle", "lat": at["lat"], "lon": at["lon"], "radius_m": radius_m},
            "note": "WFH atas penugasan kepala bagian", **extra}


def given_enrolled_with(api, set_now, *sites, at="2026-03-03T07:45:00+08:00"):
    set_now(at)
    for s in sites:
        r = api.post(SITES, s, user="admin")
        assert r.status_code == 201, r.json
    assert enrol(api, AYU).status_code == 201


@pytest.mark.parametrize("kind, work_mode", [("home", "WFH"), ("assignment", "DL"), ("anywhere", "WFA")])
def test_admin_assigns_each_kind_and_the_work_mode_follows(api, kind, work_mode):
    # When
    r = api.post(SITES, site(kind=kind, valid_from="2026-03-02", valid_to="2026-03-06"), user="admin")
    # Then
    assert r.status_code == 201, r.json
    assert r.json["kind"] == kind and r.json["work_mode"] == work_mode
    assert r.json["valid_from"] == "2026-03-02" and r.json["valid_to"] == "2026-03-06"
    assert r.json["geofence"]["type"] == "circle" and r.json["created_by"] == "admin"
    listed = api.get(SITES, user="admin").json["sites"]
    assert [(s["site_id"], s["work_mode"]) for s in listed] == [("rumah-ayu", work_mode)]


@pytest.mark.parametrize("kind, work_mode", [("home", "WFH"), ("assignment", "DL"), ("anywhere", "WFA")])
def test_checkin_at_a_personal_site_takes_its_work_mode(api, set_now, kind, work_mode):
    given_enrolled_with(api, set_now, site(kind=kind))
    # When
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**AT_HOME))
    # Then: the office's time rules still apply (07:45 WITA is on time)
    assert r.status_code == 201, r.json
    assert r.json["decision"] == "accepted" and r.json["work_mode"] == work_mode
    assert r.json["geo"]["site_id"] == "rumah-ayu" and r.json["geo"]["distance_m"] < 5
    assert r.json["local_time"] == "07:45:00" and r.json["late_minutes"] == 0
    day = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=AYU).json["days"][0]
    assert day["status"] == "present" and day["work_mode"] == work_mode


def test_checkin_at_the_office_stays_wfo_with_a_home_site(api, set_now):
    given_enrolled_with(api, set_now, site())
    r = check_in(api, AYU, checkin_session(api, AYU))
    assert r.status_code == 201, r.json
    assert r.json["work_mode"] == "WFO" and r.json["geo"]["site_id"] == "kantor-denpasar"


def test_assignment_within_its_validity_is_dinas_luar(api, set_now):
    given_enrolled_with(api, set_now, site("dl-badung", "assignment", valid_from="2026-03-03",
                                           valid_to="2026-03-03"))
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**HOME))
    assert r.status_code == 201, r.json
    assert r.json["work_mode"] == "DL" and r.json["geo"]["site_id"] == "dl-badung"


def test_assignment_outside_its_validity_is_not_matched(api, set_now):
    # Given: the assignment starts on Thursday; the check-in is on Tuesday
    given_enrolled_with(api, set_now, site("dl-badung", "assignment", valid_from="2026-03-05",
                                           valid_to="2026-03-06"))
    # When
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**HOME))
    # Then: only the office was a candidate, and the position is outside it
    assert r.status_code == 422, r.json
    assert r.json["decision"] == "rejected" and r.json["work_mode"] is None
    assert "outside_geofence" in [x["code"] for x in r.json["reasons"]]
    assert r.json["geo"]["site_id"] == "kantor-denpasar"


def test_validity_uses_the_office_local_date(api, set_now):
    # Given: valid until 3 March; 00:30 WITA on 4 March is still 3 March in UTC
    given_enrolled_with(api, set_now, site("dl-badung", "assignment", valid_to="2026-03-03"),
                        at="2026-03-04T00:30:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU),
                 loc=location(**HOME, captured_at="2026-03-04T00:29:50+08:00"))
    assert r.json["geo"]["site_id"] == "kantor-denpasar" and r.json["decision"] == "rejected"


def test_supervisor_assigns_and_removes_sites_of_own_staff(api):
    r = api.post(SITES, site(), user=KETUT)
    assert r.status_code == 201, r.json
    assert r.json["created_by"] == KETUT
    assert api.get(SITES, user=KETUT).status_code == 200
    assert api.delete(f"{SITES}/rumah-ayu", user=KETUT).status_code == 200


def test_supervisor_cannot_touch_someone_elses_staff(api):
    r = api.post(SITES, site(), user=BUDI)
    assert r.status_code == 403 and r.json["error"]["code"] == "not_your_staff"
    assert api.post(f"/admin/employees/{ANDI}/sites", site(), user=BUDI).status_code == 201
    r = api.delete(f"/admin/employees/{ANDI}/sites/rumah-ayu", user=KETUT)
    assert r.status_code == 403 and r.json["error"]["code"] == "not_your_staff"
    r = api.get(f"/admin/employees/{ANDI}/sites", user=KETUT)
    assert r.status_code == 403 and r.json["error"]["code"] == "not_your_staff"


def test_an_employee_cannot_assign_sites(api):
    r = api.post(SITES, site(), user=AYU)
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert api.get(SITES, user=AYU).status_code == 403


@pytest.mark.parametrize("body, code", [
    (site(radius_m=0), "invalid_geofence"),
    ({**site(), "geofence": {"type": "Polygon", "coordinates": [[[115.0, -8.0], [115.01, -8.0]]]}},
     "invalid_geofence"),
    (site(kind="office"), "invalid_site_kind"),
    (site(kind="beach"), "invalid_site_kind"),
    (site(valid_from="2026-03-06", valid_to="2026-03-02"), "invalid_validity"),
    (site(valid_from="06/03/2026"), "invalid_validity"),
    (site(valid_to="2026-02-30"), "invalid_validity"),
    (site(site_id="Rumah Ayu!"), "invalid_site"),
    ({"site_id": "rumah-ayu", "kind": "home"}, "missing_fields"),
])
def test_invalid_sites_are_a_422_with_a_code(api, body, code):
    r = api.post(SITES, body, user="admin")
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == code
    assert api.get(SITES, user="admin").json["sites"] == []


def test_duplicate_site_id_is_a_409(api):
    assert api.post(SITES, site(), user="admin").status_code == 201
    r = api.post(SITES, site(kind="anywhere"), user="admin")
    assert r.status_code == 409 and r.json["error"]["code"] == "site_exists"
    r = api.post(SITES, site(site_id="kantor-denpasar"), user="admin")
    assert r.status_code == 409 and r.json["error"]["code"] == "site_exists"


def test_unknown_employee_is_a_404(api):
    r = api.post("/admin/employees/198503302010011001/sites", site(), user="admin")
    assert r.status_code == 404 and r.json["error"]["code"] == "employee_not_found"


def test_delete_removes_the_site_and_both_changes_are_audited(api, set_now):
    given_enrolled_with(api, set_now, site())
    # When, a minute later, the admin removes the site
    set_now("2026-03-03T07:46:00+08:00")
    r = api.delete(f"{SITES}/rumah-ayu", user="admin")
    # Then
    assert r.status_code == 200 and r.json["status"] == "removed"
    assert api.get(SITES, user="admin").json["sites"] == []
    again = api.delete(f"{SITES}/rumah-ayu", user="admin")
    assert again.status_code == 404 and again.json["error"]["code"] == "site_not_found"
    from chalicelib.wiring import get_services
    trail = [a for a in get_services().records.audit_trail(AYU) if a.action.startswith("site_")]
    assert [(a.action, a.actor, a.details["site_id"], a.details["work_mode"]) for a in trail] == [
        ("site_assigned", "admin", "rumah-ayu", "WFH"), ("site_removed", "admin", "rumah-ayu", "WFH")]
    # and home is no longer a place to check in from
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**HOME))
    assert r.status_code == 422 and r.json["geo"]["site_id"] == "kantor-denpasar"


def test_me_shows_the_sites_and_those_valid_today(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    api.post(SITES, site(), user="admin")
    api.post(SITES, site("dl-badung", "assignment", valid_from="2026-03-05"), user="admin")
    # When
    me = api.get("/me", user=AYU).json
    # Then
    assert {s["site_id"]: s["valid_today"] for s in me["sites"]} == {"rumah-ayu": True, "dl-badung": False}
    assert me["sites_today"]["date"] == "2026-03-03"
    assert [(s["site_id"], s["work_mode"]) for s in me["sites_today"]["sites"]] == [
        ("kantor-denpasar", "WFO"), ("rumah-ayu", "WFH")]


def test_seeded_demo_has_a_home_and_an_assignment(api):
    made = api.get("/me", user="199208202019021003").json
    assert [(s["site_id"], s["work_mode"]) for s in made["sites"]] == [("rumah-made-tabanan", "WFH")]
    andi = api.get("/me", user=ANDI).json["sites"][0]
    assert (andi["work_mode"], andi["valid_from"], andi["valid_to"]) == ("DL", "2026-03-02", "2026-03-06")


def test_home_far_from_the_office_does_not_change_the_office_fence(api, set_now):
    given_enrolled_with(api, set_now, site())
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(lat=DENPASAR["lat"] + 0.018))
    assert r.status_code == 422 and "outside_geofence" in [x["code"] for x in r.json["reasons"]]
