"""POST /admin/rosters: a unit's WFO/WFH roster over a period, judged by the independent validator;
roles (admin: any unit; supervisor: own staff only; employee: never), leave, and the 422s."""
from datetime import date

import pytest

from chalicelib.policy.roster_check import check
from chalicelib.policy.roster import Member
from chalicelib.services.records import RequestRecord
from tests.api.helpers import AYU, BUDI, KETUT, MADE

UNIT = "Bagian Umum Denpasar"
WEEK = {"unit": UNIT, "first": "2026-11-02", "through": "2026-11-06"}  # Monday to Friday


def records():
    from chalicelib.wiring import get_services
    return get_services().records


def with_echelon(nip, echelon):
    r = records()
    r.put_employee(r.get_employee(nip).model_copy(update={"echelon": echelon}), now="2026-10-01T00:00:00Z")


def as_members(out, levels=None):
    levels = levels or {}
    return [Member(row["nip"], levels.get(row["nip"]),
                   frozenset(date.fromisoformat(d) for d, s in zip(out["days"], row["days"]) if s not in ("WFO", "WFH")))
            for row in out["staff"]]


def assignment(out):
    return {row["nip"]: ["away" if s not in ("WFO", "WFH") else s for s in row["days"]] for row in out["staff"]}


def test_an_admin_gets_a_valid_rotation_for_a_unit(api):
    # Given a unit of three and at most 34 % in the office (one a day)
    r = api.post("/admin/rosters", {**WEEK, "max_share": 0.34}, user="admin")
    # Then five working days, one in the office a day, office days within one of each other
    assert r.status_code == 200, r.json
    out = r.json
    assert (out["headcount"], out["hi"], len(out["days"]), out["published"]) == (3, 1, 5, False)
    assert sorted(row["office_days"] for row in out["staff"]) == [1, 2, 2]
    assert check(as_members(out), [date.fromisoformat(d) for d in out["days"]], assignment(out), 0.34) == []


def test_the_head_stays_in_the_office_and_leave_is_respected(api):
    # Given the head (III.a) and a section head (IV.a), Ayu on approved leave Tuesday-Wednesday
    with_echelon(KETUT, "III.a")
    with_echelon(MADE, "IV.a")
    records().create_request(RequestRecord(request_id="leave-ayu-1", nip=AYU, type="leave", subtype="annual",
                                           start="2026-11-03", end="2026-11-04", status="approved"),
                             now="2026-10-01T00:00:00Z")
    r = api.post("/admin/rosters", {**WEEK, "max_share": 0.67}, user="admin")
    assert r.status_code == 200, r.json
    rows = {row["nip"]: row for row in r.json["staff"]}
    # Then Ketut and Made are in every day (the two top levels), Ayu's leave shows, and all is valid
    assert rows[KETUT]["days"] == ["WFO"] * 5 and rows[MADE]["days"] == ["WFO"] * 5
    assert rows[AYU]["days"][1:3] == ["leave", "leave"] and rows[AYU]["available_days"] == 3
    assert r.json["top_levels"] == [3, 4] and rows[KETUT]["group"] == "level:3"
    levels = {KETUT: 3, MADE: 4}
    assert check(as_members(r.json, levels), [date.fromisoformat(d) for d in r.json["days"]],
                 assignment(r.json), 0.67) == []


def test_no_roster_is_a_422_naming_the_constraint_and_days(api):
    # Given two structural levels but room for one a day
    with_echelon(KETUT, "III.a")
    with_echelon(MADE, "IV.a")
    r = api.post("/admin/rosters", {**WEEK, "max_share": 0.34}, user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "roster_infeasible", r.json
    (failure,) = r.json["error"]["details"]["failures"]
    assert failure["constraint"] == "max_share" and len(failure["days"]) == 5


def test_a_supervisor_gets_their_own_unit(api):
    r = api.post("/admin/rosters", WEEK, user=KETUT)
    assert r.status_code == 200 and {row["nip"] for row in r.json["staff"]} == {KETUT, AYU, MADE}, r.json


def test_a_supervisor_never_sees_another_unit_and_an_employee_never_asks(api):
    # Budi supervises Jakarta: Denpasar is as unknown to him as a unit that does not exist
    other = api.post("/admin/rosters", WEEK, user=BUDI)
    unknown = api.post("/admin/rosters", {**WEEK, "unit": "Tidak Ada"}, user="admin")
    assert (other.status_code, other.json["error"]["code"]) == (404, "unit_not_found")
    assert (unknown.status_code, unknown.json["error"]["code"]) == (404, "unit_not_found")
    assert "staff" not in other.json
    assert api.post("/admin/rosters", WEEK, user=AYU).status_code == 403


@pytest.mark.parametrize("change", [{"through": "2026-11-01"}, {"through": "2027-02-01"}, {"max_share": 1.5},
                                    {"min_share": -0.1}, {"unit": ""}, {"first": "02-11-2026"},
                                    {"max_share": "0.3"}])
def test_malformed_rosters_are_refused(api, change):
    r = api.post("/admin/rosters", {**WEEK, **change}, user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_roster", r.json
