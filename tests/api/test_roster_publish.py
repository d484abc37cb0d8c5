"""POST /admin/rosters/publish, GET /admin/rosters, GET /me/roster: a unit's roster of a month,
solved server-side, stored once per version (audited, 409 on a concurrent change, nothing written
on any refusal); its days decide check-in's sites and the pings' expected home; each member and
their supervisor are told once per version."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from chalicelib.policy.roster_check import check
from tests.api.helpers import AYU, BUDI, DENPASAR, KETUT, MADE, check_in, checkin_session, enrol, location
from tests.api.test_bad_inputs import assert_nothing_written, snapshot
from tests.api.test_rosters import UNIT, WEEK, as_members, assignment, records, with_echelon

PUBLISH = "/admin/rosters/publish"
MARCH = {"unit": UNIT, "first": "2026-03-02", "through": "2026-03-06"}  # the check-in tests' week
ALL_HOME, ALL_OFFICE = {"max_share": 0.0}, {"max_share": 1.0, "min_share": 1.0}
HOME = {"lat": -8.6500, "lon": 115.2300}  # about 3 km from the Denpasar office
AT_HOME = {"lat": -8.65002, "lon": 115.23003}
MADE_HOME = {"lat": -8.54052, "lon": 115.12503}  # Made's seeded home in Tabanan


def publish(api, body=None, user="admin", **change):
    return api.post(PUBLISH, {**(body or WEEK), **change}, user=user)


def notices(api, nip, topic):
    return [n for n in api.get("/me/notifications", user=nip).json["items"] if n["topic"] == topic]


def audit_entries():
    return records().audit_log("2026-01-01", "2027-12-31", subject=f"roster#2026-11#{UNIT}").entries


# --- publishing ----------------------------------------------------------------------------------
def test_an_admin_publishes_a_valid_roster_that_each_member_reads(api):
    # When an admin publishes the unit's week, one a day in the office
    r = publish(api, max_share=0.34)
    # Then it is stored as version 1, valid by the independent validator, and audited
    assert r.status_code == 201, r.json
    out = r.json
    assert (out["published"], out["version"], out["roster_id"], out["published_by"]) == (
        True, 1, f"2026-11#{UNIT}", "admin")
    assert check(as_members(out), [date.fromisoformat(d) for d in out["days"]], assignment(out), 0.34) == []
    [entry] = audit_entries()
    assert (entry.action, entry.actor, entry.after) == ("roster_published", "admin", {"version": 1})
    assert entry.details["headcount"] == 3 and entry.details["hi"] == 1 and entry.details["scope"] == "unit"
    # And Ayu sees her own days, as the listing does
    mine = api.get("/me/roster?month=2026-11", user=AYU).json
    row = next(s for s in out["staff"] if s["nip"] == AYU)
    assert [d["status"] for d in mine["days"]] == row["days"] and mine["version"] == 1
    listed = api.get(f"/admin/rosters?unit={UNIT}&month=2026-11", user="admin")
    assert listed.status_code == 200 and listed.json["staff"] == out["staff"], listed.json


def test_a_client_sent_assignment_is_ignored(api):
    # Given the solver's proposal
    proposal = api.post("/admin/rosters", {**WEEK, "max_share": 0.34}, user="admin").json
    # When a publish carries a forged assignment (everyone always in the office)
    forged = [{**row, "days": ["WFO"] * 5, "office_days": 5} for row in proposal["staff"]]
    r = publish(api, max_share=0.34, staff=forged, days=proposal["days"], hi=3)
    # Then what is stored is solved again: the proposal's roster, not the body's
    assert r.status_code == 201, r.json
    assert r.json["staff"] == proposal["staff"] and r.json["hi"] == 1


def test_no_roster_published_is_an_empty_month_and_a_404_listing(api):
    mine = api.get("/me/roster?month=2026-11", user=AYU)
    assert mine.status_code == 200 and (mine.json["roster_id"], mine.json["days"]) == (None, [])
    listed = api.get(f"/admin/rosters?unit={UNIT}&month=2026-11", user="admin")
    assert (listed.status_code, listed.json["error"]["code"]) == (404, "roster_not_found")


def test_a_supervisor_publishes_their_own_unit(api):
    r = publish(api, user=KETUT)
    assert r.status_code == 201, r.json
    assert {row["nip"] for row in r.json["staff"]} == {KETUT, AYU, MADE}
    assert audit_entries()[0].details["scope"] == f"staff_of:{KETUT}"


@pytest.mark.parametrize("user, status, code", [(BUDI, 404, "unit_not_found"), (AYU, 403, None),
                                                (MADE, 403, None)])
def test_another_supervisor_or_an_employee_publishes_nothing(api, user, status, code):
    # Given the tables before, When Budi (Jakarta's supervisor) or an employee publishes Denpasar's roster
    before = snapshot()
    r = publish(api, user=user)
    # Then refused, without a hint of the unit's staff, and nothing written
    assert r.status_code == status, r.json
    assert code is None or r.json["error"]["code"] == code
    assert "staff" not in r.json
    assert_nothing_written(before, snapshot())


def test_another_supervisor_never_reads_the_units_roster(api):
    assert publish(api).status_code == 201
    r = api.get(f"/admin/rosters?unit={UNIT}&month=2026-11", user=BUDI)
    assert (r.status_code, r.json["error"]["code"]) == (404, "unit_not_found") and "staff" not in r.json
    assert api.get(f"/admin/rosters?unit={UNIT}&month=2026-11", user=AYU).status_code == 403


@pytest.mark.parametrize("change", [{"first": "2026-11-25", "through": "2026-12-04"}, {"replaces": 0},
                                    {"replaces": "1"}, {"max_share": 2}, {"unit": ""}, {"through": "2026-11-01"},
                                    {"first": "2026-13-01"}])
def test_malformed_publishes_are_invalid_roster_and_write_nothing(api, change):
    before = snapshot()
    r = publish(api, **change)
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_roster", r.json
    assert_nothing_written(before, snapshot())


@pytest.mark.parametrize("query, code", [("unit=&month=2026-11", "invalid_roster"),
                                         (f"unit={UNIT}&month=2026-13", "invalid_month"),
                                         (f"unit={UNIT}", "missing_fields")])
def test_malformed_listings_are_refused(api, query, code):
    r = api.get(f"/admin/rosters?{query}", user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == code, r.json


def test_an_infeasible_publish_is_a_422_and_writes_nothing(api):
    # Given two structural levels but room for one a day
    with_echelon(KETUT, "III.a")
    with_echelon(MADE, "IV.a")
    before = snapshot()
    # When
    r = publish(api, max_share=0.34)
    # Then
    assert r.status_code == 422 and r.json["error"]["code"] == "roster_infeasible", r.json
    assert r.json["error"]["details"]["failures"][0]["constraint"] == "max_share"
    assert_nothing_written(before, snapshot())


def test_a_republish_names_the_version_it_replaces(api):
    # Given version 1
    assert publish(api, max_share=0.34).status_code == 201
    before = snapshot()
    # When another publish names no version, or a wrong one
    fresh, stale = publish(api, ALL_HOME | WEEK), publish(api, ALL_HOME | WEEK, replaces=2)
    # Then 409 roster_changed with the stored version, and nothing written
    for r, expected in ((fresh, None), (stale, 2)):
        assert r.status_code == 409 and r.json["error"]["code"] == "roster_changed", r.json
        assert (r.json["error"]["details"]["expected_version"], r.json["error"]["details"]["stored_version"]) == (
            expected, 1)
    assert_nothing_written(before, snapshot())
    # When it names version 1, Then version 2 replaces it for everyone
    r = publish(api, ALL_HOME | WEEK, replaces=1)
    assert r.status_code == 201 and r.json["version"] == 2, r.json
    assert {d["status"] for d in api.get("/me/roster?month=2026-11", user=AYU).json["days"]} == {"WFH"}
    assert [e.after for e in audit_entries()] == [{"version": 1}, {"version": 2}]


def test_a_supervisor_cannot_replace_a_roster_holding_others_staff(api):
    # Given a unit member Ketut does not supervise, and the admin's roster of the whole unit
    other = records().get_employee(MADE).model_copy(update={"nip": "199912312020121001", "name": "Wayan",
                                                           "supervisor_nip": BUDI})
    records().put_employee(other, now="2026-10-01T00:00:00Z")
    assert publish(api).status_code == 201
    before = snapshot()
    # When Ketut re-publishes for his own staff
    r = publish(api, user=KETUT, replaces=1)
    # Then refused (the others' days are not his to drop), nothing written
    assert r.status_code == 403 and r.json["error"]["code"] == "not_your_staff", r.json
    assert_nothing_written(before, snapshot())
    # And he reads only his own staff's rows
    rows = api.get(f"/admin/rosters?unit={UNIT}&month=2026-11", user=KETUT).json["staff"]
    assert {row["nip"] for row in rows} == {KETUT, AYU, MADE}


# --- notices ------------------------------------------------------------------------------------
def test_each_member_and_the_supervisor_are_told_once_per_version(api):
    # When published, then re-published
    first = publish(api, max_share=0.34)
    assert first.status_code == 201 and first.json["notified"] == 4, first.json  # 3 members + Ketut's team notice
    [told] = notices(api, AYU, "roster_published")
    row = next(s for s in first.json["staff"] if s["nip"] == AYU)
    office = [d for d, s in zip(first.json["days"], row["days"]) if s == "WFO"]
    assert told["details"]["office"] == office and told["details"]["version"] == 1
    assert len(notices(api, KETUT, "team_roster_published")) == 1
    assert publish(api, ALL_HOME | WEEK, replaces=1).status_code == 201
    # Then one notice per version each, never two for one version
    assert [n["details"]["version"] for n in notices(api, AYU, "roster_published")] == [2, 1]
    assert [n["details"]["version"] for n in notices(api, KETUT, "team_roster_published")] == [2, 1]
    assert len(notices(api, KETUT, "roster_published")) == 2  # Ketut is a member too


# --- effect on check-in ---------------------------------------------------------------------------
def home_site(api):
    r = api.post(f"/admin/employees/{AYU}/sites", {
        "site_id": "rumah-ayu", "kind": "home", "note": "rumah",
        "geofence": {"type": "circle", "lat": HOME["lat"], "lon": HOME["lon"], "radius_m": 80}}, user="admin")
    assert r.status_code == 201, r.json


def given_week(api, set_now, shares, with_home=True):
    set_now("2026-03-03T07:45:00+08:00")
    if with_home:
        home_site(api)
    r = publish(api, MARCH, **shares)
    assert r.status_code == 201, r.json
    assert enrol(api, AYU).status_code == 201
    return r.json


def roster_reason(r, code="roster"):
    return next((x for x in r.json["reasons"] if x["code"] == code), None)


def test_at_home_on_a_roster_wfh_day_is_accepted_with_the_roster_reason(api, set_now):
    out = given_week(api, set_now, ALL_HOME)
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**AT_HOME))
    assert r.status_code == 201, r.json
    assert r.json["decision"] == "accepted" and r.json["work_mode"] == "WFH"
    assert roster_reason(r) == {"code": "roster", "effect": "info", "status": "WFH", "roster_id": out["roster_id"],
                                "version": 1, "date": "2026-03-03"}


def test_at_the_office_on_a_roster_wfh_day_no_site_matches(api, set_now):
    given_week(api, set_now, ALL_HOME)
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**DENPASAR))
    # Then outside every allowed site: the nearest one is the home (the office is not a candidate)
    assert r.status_code == 422 and r.json["decision"] == "rejected", r.json
    assert (r.json["geo"]["status"], r.json["geo"]["site_id"]) == ("outside", "rumah-ayu")


def test_a_wfh_day_without_a_home_site_allows_the_office_and_says_so(api, set_now):
    given_week(api, set_now, ALL_HOME, with_home=False)
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**DENPASAR))
    assert r.status_code == 201 and r.json["work_mode"] == "WFO", r.json
    assert roster_reason(r, "roster_no_home_site")["status"] == "WFH"


def test_at_home_on_a_roster_wfo_day_no_site_matches_but_the_office_does(api, set_now):
    given_week(api, set_now, ALL_OFFICE)
    home = check_in(api, AYU, checkin_session(api, AYU), loc=location(**AT_HOME))
    assert home.status_code == 422, home.json
    assert (home.json["geo"]["status"], home.json["geo"]["site_id"]) == ("outside", "kantor-denpasar")
    set_now("2026-03-03T07:50:00+08:00")
    office = check_in(api, AYU, checkin_session(api, AYU), loc=location(**DENPASAR))
    assert office.status_code == 201 and office.json["work_mode"] == "WFO", office.json
    assert roster_reason(office)["status"] == "WFO"


def test_an_approved_wfh_request_on_a_roster_wfo_day_keeps_the_home(api, set_now):
    given_week(api, set_now, ALL_OFFICE)
    r = api.post("/me/requests", {"type": "wfh", "start": "2026-03-03", "end": "2026-03-03",
                                  "reason": "anak sakit"}, user=AYU)
    assert r.status_code == 201, r.json
    assert api.post(f"/team/requests/{r.json['request_id']}", {"decision": "approve"}, user=KETUT).status_code == 200
    home = check_in(api, AYU, checkin_session(api, AYU), loc=location(**AT_HOME))
    assert home.status_code == 201 and home.json["work_mode"] == "WFH", home.json
    assert roster_reason(home) is None


def test_a_day_without_a_roster_is_as_before(api, set_now):
    # Given a roster for November only, When Ayu checks in from home in March
    set_now("2026-03-03T07:45:00+08:00")
    home_site(api)
    assert publish(api, ALL_OFFICE | WEEK).status_code == 201
    assert enrol(api, AYU).status_code == 201
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**AT_HOME))
    # Then the home is a site as always, and no roster reason
    assert r.status_code == 201 and r.json["work_mode"] == "WFH", r.json
    assert roster_reason(r) is None


# --- effect on pings -----------------------------------------------------------------------------
def test_a_ping_away_from_home_on_a_roster_wfh_day_opens_an_episode(api, set_now):
    # Given Made works from home all week by the roster (no WFH request), it is Tuesday 10:00
    clock = set_now("2026-03-03T08:10:00+08:00")
    assert publish(api, MARCH, **ALL_HOME).status_code == 201
    clock.set(datetime.fromisoformat("2026-03-03T10:00:00+08:00"))
    # When a ping at home, then one at the office
    at_home = api.post("/me/pings", {"location": location(**MADE_HOME)}, user=MADE)
    clock.advance(seconds=61)
    away = api.post("/me/pings", {"location": location(**DENPASAR)}, user=MADE)
    # Then home is where he is expected: the office ping opens an away_from_home episode
    assert at_home.status_code == 201 and at_home.json["outside"] is False, at_home.json
    assert away.json["kind"] == "away_from_home" and away.json["episode"]["opened"] is True, away.json
    assert away.json["reasons"][-1]["site_id"] == "rumah-made-tabanan"


def test_a_ping_at_the_office_on_a_roster_wfo_day_is_inside(api, set_now):
    clock = set_now("2026-03-03T08:10:00+08:00")
    assert publish(api, MARCH, **ALL_OFFICE).status_code == 201
    clock.set(datetime.fromisoformat("2026-03-03T10:00:00+08:00"))
    r = api.post("/me/pings", {"location": location(**DENPASAR)}, user=MADE)
    assert r.status_code == 201 and r.json["outside"] is False and r.json["episode"] is None, r.json
