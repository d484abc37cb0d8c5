"""Leave and permission requests through the API: an employee asks, their own supervisor (or an
admin; with two levels, the supervisor's supervisor too) decides, an approval changes the days,
absence detection respects it, and dinas luar opens its assignment site."""
import pytest

from tests.api.helpers import ANDI, AYU, BUDI, KETUT, MADE, check_in, checkin_session, enrol, location

NOW = "2026-03-03T07:00:00+08:00"  # a Tuesday in Denpasar (WITA)
BADUNG = {"type": "circle", "lat": -8.5819, "lon": 115.1770, "radius_m": 150}


def leave(start="2026-03-09", end="2026-03-11", type_="leave", subtype="annual", **extra):
    return {"type": type_, "subtype": subtype, "start": start, "end": end, "reason": "Upacara keluarga", **extra}


def submit(api, nip=AYU, body=None, status=201):
    r = api.post("/me/requests", body or leave(), user=nip)
    assert r.status_code == status, r.json
    return r.json


def decide(api, request_id, user=KETUT, decision="approve", comment="Disetujui"):
    return api.post(f"/team/requests/{request_id}", {"decision": decision, "comment": comment}, user=user)


def run(handler_name):
    from chalicelib.api.events import HANDLERS
    return HANDLERS[handler_name]({})


@pytest.fixture
def today(api, set_now):
    return set_now(NOW)


# --- asking and seeing ---------------------------------------------------------------------------
def test_an_employee_asks_for_annual_leave_and_sees_it_with_the_balance(api, today):
    # When Ayu asks for three days of annual leave
    out = submit(api)
    # Then it is pending, counts its working days and says what an approval gives the days
    assert out["request_id"].startswith("rq-") and out["status"] == "pending"
    assert (out["working_days"], out["day_status"], out["levels_required"], out["decisions"]) == (3, "on_leave", 1, [])
    # And her list shows it, with the days reserved from her balance (12 + 1 carried over: 2025's
    # 11 cuti bersama took the rest; 2026's 8 cuti bersama are taken from it)
    mine = api.get("/me/requests", user=AYU).json
    assert [r["request_id"] for r in mine["requests"]] == [out["request_id"]]
    assert mine["leave_balance"] == {"year": 2026, "entitlement": 12, "carried_over": 1, "total": 13,
                                     "taken": 0, "reserved": 3, "remaining": 2, "cuti_bersama_days": 8}
    assert api.get("/me/requests?from=2026-03-12", user=AYU).json["requests"] == []


def test_the_agencys_cuti_bersama_are_taken_from_annual_leave_and_refuse_what_goes_over(api, today):
    # Given the agency configures 2026's cuti bersama: two weekdays and a Saturday
    doc = {"years": {"2026": {"cuti_bersama": [{"date": "2026-02-16", "name": "Imlek"},
                                               {"date": "2026-03-18", "name": "Nyepi"},
                                               {"date": "2026-03-21", "name": "a Saturday"}]}}}
    assert api.put("/admin/config/calendar", {"version": None, "document": doc}, user="admin").status_code == 200
    # Then Ayu's balance counts the two weekdays as taken: 13 - 2 = 11 left
    bal = api.get("/me/requests", user=AYU).json["leave_balance"]
    assert (bal["total"], bal["cuti_bersama_days"], bal["taken"], bal["remaining"]) == (13, 2, 0, 11)
    # When she asks for 12 working days: refused with the balance; 11 are accepted
    r = api.post("/me/requests", leave(start="2026-04-06", end="2026-04-21"), user=AYU)
    assert r.status_code == 422 and r.json["error"]["code"] == "insufficient_leave_balance", r.json
    assert (r.json["error"]["details"]["requested_days"], r.json["error"]["details"]["balance"]["remaining"]) == (12, 11)
    assert submit(api, body=leave(start="2026-04-06", end="2026-04-20"))["working_days"] == 11


def test_the_supervisor_sees_their_staffs_requests_and_another_unit_sees_nothing(api, today):
    out = submit(api)
    assert [r["request_id"] for r in api.get("/team/requests", user=KETUT).json["requests"]] == [out["request_id"]]
    assert api.get("/team/requests", user=BUDI).json["requests"] == []
    assert [r["nip"] for r in api.get("/team/requests?status=all", user="admin").json["requests"]] == [AYU]
    assert api.get("/team/requests?status=approved", user=KETUT).json["requests"] == []
    assert api.get("/team/requests?status=maybe", user=KETUT).json["error"]["code"] == "invalid_status"
    assert api.get("/team/requests", user=AYU).status_code == 403  # an employee is no supervisor


def test_decided_requests_are_listed_by_window_and_pending_ones_always(api, set_now):
    # Given in January Ayu's leave was approved and another request is still waiting
    set_now("2026-01-05T07:00:00+08:00")
    old = submit(api, body=leave(start="2026-01-12", end="2026-01-13"))
    assert decide(api, old["request_id"]).status_code == 200
    waiting = submit(api, body=leave(start="2026-01-19", end="2026-01-19", subtype="important_reason"))
    # When Ketut and an admin list the decided and pending ones in March
    set_now(NOW)
    for user in (KETUT, "admin"):
        approved = api.get("/team/requests?status=approved", user=user).json["requests"]
        pending = api.get("/team/requests", user=user).json["requests"]
        # Then January's approved leave is outside the default window (from today - 31 days), the
        # pending one is listed whatever its dates
        assert approved == [] and [r["request_id"] for r in pending] == [waiting["request_id"]], user
        # And a window that reaches January shows it
        found = api.get("/team/requests?status=approved&from=2026-01-01&to=2026-01-31", user=user).json["requests"]
        assert [r["request_id"] for r in found] == [old["request_id"]], user


@pytest.mark.parametrize("query, code", [("from=2026-03-10&to=2026-03-01", "invalid_range"),
                                         ("from=2025-01-01&to=2026-03-01", "invalid_range"),
                                         ("from=tuesday", "invalid_date"), ("to=2026-02-30", "invalid_date")])
def test_a_bad_window_is_a_422(api, today, query, code):
    r = api.get(f"/team/requests?status=approved&{query}", user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == code, r.json


# --- deciding --------------------------------------------------------------------------------------
def test_the_direct_supervisor_approves_the_employee_is_told_and_it_is_audited(api, today, tap):
    out = submit(api)
    tap()
    today.advance(minutes=5)
    # When Ketut approves
    r = decide(api, out["request_id"])
    # Then it is approved with his decision
    assert r.status_code == 200, r.json
    assert r.json["status"] == "approved" and r.json["approvals"] == 1
    [d] = r.json["decisions"]
    assert (d["level"], d["decision"], d["by"], d["by_nip"], d["comment"]) == (1, "approved", KETUT, KETUT, "Disetujui")
    # And Ayu is told, and the audit trail keeps both steps
    [notice] = [n for n in tap() if n.get("kind") == "employee_notice"]
    assert (notice["nip"], notice["topic"], notice["ref"]) == (AYU, "request_decided", out["request_id"])
    assert notice["details"]["status"] == "approved"
    from chalicelib.wiring import get_services
    trail = [a.action for a in get_services().records.audit_trail(AYU)]
    assert [a for a in trail if a.startswith("request_")] == ["request_submitted", "request_approved"]
    # And the balance now counts the days as taken; deciding again is request_not_pending
    assert api.get("/me/requests", user=AYU).json["leave_balance"]["taken"] == 3
    again = decide(api, out["request_id"], decision="reject")
    assert again.status_code == 409 and again.json["error"]["code"] == "request_not_pending"


def test_a_rejection_is_final_and_frees_the_dates(api, today):
    out = submit(api)
    r = decide(api, out["request_id"], decision="reject", comment="Ada rapat")
    assert r.status_code == 200 and r.json["status"] == "rejected"
    assert api.get("/me/requests", user=AYU).json["leave_balance"]["reserved"] == 0
    submit(api)  # the same dates again: no overlap with a rejected request


def test_role_boundaries_on_a_decision(api, today):
    out = submit(api)
    rid = out["request_id"]
    # Another unit's supervisor: 403 not_your_staff; an employee: 403 by role; a forged id: 404
    other = decide(api, rid, user=BUDI)
    assert other.status_code == 403 and other.json["error"]["code"] == "not_your_staff"
    assert decide(api, rid, user=MADE).status_code == 403
    assert decide(api, rid, user=AYU).status_code == 403
    for forged in ("rq-00000000000000000000", "RQ-" + "A" * 20, "%2e%2e", "rq-" + "a" * 200):
        r = decide(api, forged, user="admin")
        assert r.status_code == 404 and r.json["error"]["code"] == "request_not_found"
    bad = api.post(f"/team/requests/{rid}", {"decision": "maybe"}, user=KETUT)
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_decision"
    # And nothing was decided
    assert api.get("/me/requests", user=AYU).json["requests"][0]["status"] == "pending"


def test_nobody_decides_their_own_request_and_an_admin_decides_a_supervisors(api, today):
    # Given Ketut (a supervisor without a supervisor of his own) asks for leave
    out = submit(api, KETUT)
    mine = decide(api, out["request_id"], user=KETUT)
    assert mine.status_code == 403 and mine.json["error"]["code"] == "own_request"
    # Then an admin decides it
    assert decide(api, out["request_id"], user="admin").json["status"] == "approved"


def test_the_second_level_is_the_supervisors_supervisor_or_an_admin(api, today, setting):
    from chalicelib.wiring import get_services
    setting("HADIR_REQUEST_APPROVAL_LEVELS", "2")
    recs = get_services().records
    ketut = recs.get_employee(KETUT)
    recs.put_employee(ketut.model_copy(update={"supervisor_nip": BUDI}), "2026-03-03T00:00:00.000+00:00")
    out = submit(api)
    assert out["levels_required"] == 2
    # When Ketut approves: still pending, waiting for the second level (Budi sees it)
    first = decide(api, out["request_id"])
    assert first.json["status"] == "pending" and first.json["approvals"] == 1
    assert [r["request_id"] for r in api.get("/team/requests", user=BUDI).json["requests"]] == [out["request_id"]]
    # And Ketut cannot approve the second level himself; Yohanes (another unit) cannot either
    twice = decide(api, out["request_id"])
    assert twice.status_code == 403 and twice.json["error"]["code"] == "second_level_required"
    assert decide(api, out["request_id"], user="197907072004051001").json["error"]["code"] == "not_your_staff"
    # When Budi approves: approved, two decisions
    final = decide(api, out["request_id"], user=BUDI)
    assert final.json["status"] == "approved"
    assert [(d["level"], d["by"]) for d in final.json["decisions"]] == [(1, KETUT), (2, BUDI)]


def test_with_two_levels_an_admin_may_approve_the_second(api, today, setting):
    setting("HADIR_REQUEST_APPROVAL_LEVELS", "2")
    out = submit(api)
    decide(api, out["request_id"])
    assert decide(api, out["request_id"], user="admin").json["status"] == "approved"


# --- cancelling ----------------------------------------------------------------------------------------
def test_an_employee_cancels_a_pending_request_but_not_a_decided_or_someone_elses(api, today):
    out = submit(api)
    # Someone else's id is not found for Made; his own cancel works once
    other = api.delete(f"/me/requests/{out['request_id']}", user=MADE)
    assert other.status_code == 404 and other.json["error"]["code"] == "request_not_found"
    r = api.delete(f"/me/requests/{out['request_id']}", user=AYU)
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    again = api.delete(f"/me/requests/{out['request_id']}", user=AYU)
    assert again.status_code == 409 and again.json["error"]["code"] == "request_not_pending"
    assert decide(api, out["request_id"]).json["error"]["code"] == "request_not_pending"
    # And an approved one cannot be cancelled
    approved = submit(api)
    decide(api, approved["request_id"])
    assert api.delete(f"/me/requests/{approved['request_id']}", user=AYU).json["error"]["code"] == \
        "request_not_pending"


# --- refusals ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, status, code", [
    (leave(start="2026-03-11", end="2026-03-09"), 422, "invalid_request_dates"),
    (leave(start="2026-02-02", end="2026-02-03"), 422, "retroactive_limit"),
    (leave(start="2027-06-01", end="2027-06-02"), 422, "future_limit"),
    (leave(start="2026-04-06", end="2026-04-30"), 422, "insufficient_leave_balance"),
    (leave(subtype="holiday"), 422, "invalid_request_type"),
    (leave(type_="excuse", subtype="sick", start="2026-03-04", end="2026-03-04"), 422, "invalid_request_dates"),
    (leave(type_="official_travel", subtype=None), 422, "destination_required"),
    (leave(type_="official_travel", subtype=None,
           destination={"type": "circle", "lat": 95, "lon": 1, "radius_m": 10}), 422, "invalid_geofence"),
    (leave(type_="wfh", subtype=None), 409, "no_home_site"),
    (leave(type_="nap"), 422, "invalid_request_type"),
    (leave(start="9 March"), 422, "invalid_request_dates"),
    ({**leave(), "reason": "   "}, 422, "invalid_request"),
])
def test_each_refusal_has_its_code_and_stores_nothing(api, today, body, status, code):
    r = api.post("/me/requests", body, user=AYU)
    assert (r.status_code, r.json["error"]["code"]) == (status, code), r.json
    assert api.get("/me/requests", user=AYU).json["requests"] == []


def test_an_overlapping_request_is_refused_naming_the_one_in_the_way(api, today):
    out = submit(api)
    r = api.post("/me/requests", leave(type_="official_travel", subtype=None, destination=BADUNG,
                                       start="2026-03-11", end="2026-03-12"), user=AYU)
    assert r.status_code == 409 and r.json["error"]["code"] == "overlapping_request"
    assert [x["request_id"] for x in r.json["error"]["details"]["requests"]] == [out["request_id"]]
    # Leaving the region during the leave is allowed (only another leave_region overlaps it)
    submit(api, body=leave(type_="leave_region", subtype=None, destination_name="Surabaya"))


def test_wfh_needs_the_registered_home_site_and_names_it(api, today):
    out = submit(api, MADE, leave(type_="wfh", subtype=None, start="2026-03-04", end="2026-03-06"))
    assert out["home_site_id"] == "rumah-made-tabanan" and out["day_status"] is None


# --- what an approval does -------------------------------------------------------------------------------
def test_an_excuse_for_a_past_absence_makes_the_day_excused(api, set_now):
    # Given Made marked absent on Tuesday
    set_now("2026-03-03T10:30:00+08:00")
    run("detect_absence_wita")
    # When on Wednesday he asks for a sick excuse for it and Ketut approves
    set_now("2026-03-04T08:00:00+08:00")
    out = submit(api, MADE, leave(type_="excuse", subtype="sick", start="2026-03-03", end="2026-03-03"))
    assert decide(api, out["request_id"]).status_code == 200
    # Then the day is excused, naming the request, and the absence is kept as replaced
    staff = {s["nip"]: s for s in api.get("/team/attendance?date=2026-03-03", user=KETUT).json["staff"]}
    assert staff[MADE]["status"] == "excused"
    assert [(r["code"], r["request_id"]) for r in staff[MADE]["reasons"]] == [("request_approved", out["request_id"])]
    from chalicelib.wiring import get_services
    day = get_services().records.day(MADE, "2026-03-03").day
    assert day.request_ids == (out["request_id"],) and day.absence_replaced[0]["code"] == "no_checkin"
    days = {d["date"]: d for d in api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=MADE).json["days"]}
    assert days["2026-03-03"]["status"] == "excused"
    assert days["2026-03-03"]["request_ids"] == [out["request_id"]]


def test_approved_leave_keeps_absence_detection_from_marking_the_days_absent(api, set_now, tap):
    set_now(NOW)
    out = submit(api, body=leave(start="2026-03-04", end="2026-03-05"))
    decide(api, out["request_id"])
    # When absence detection runs on Wednesday
    set_now("2026-03-04T10:30:00+08:00")
    report = run("detect_absence_wita")
    # Then Ayu is on leave (with the request's id), not absent; Made is absent
    assert report["covered_by_request"] == 1
    staff = {s["nip"]: s["status"] for s in api.get("/team/attendance?date=2026-03-04", user=KETUT).json["staff"]}
    assert staff == {AYU: "on_leave", MADE: "absent"}
    [digest] = [n for n in tap() if n.get("kind") == "absence_notice"]
    assert [a["nip"] for a in digest["absentees"]] == [MADE]
    # And the auditors' export has her day with its status and why
    import csv
    import io

    from chalicelib.wiring import get_services
    set_now("2026-03-05T00:31:00+08:00")
    out_key = run("export_wita")["key"]
    rows = list(csv.DictReader(io.StringIO(get_services().exports.get(out_key).decode())))
    ayu = next(r for r in rows if r["nip"] == AYU)
    assert (ayu["decision"], ayu["reason_codes"]) == ("on_leave", "request_approved")


def test_an_approved_dinas_luar_opens_its_site_and_a_check_in_there_is_dl(api, set_now):
    set_now("2026-03-03T06:30:00+08:00")
    assert enrol(api, AYU).status_code == 201
    out = submit(api, body=leave(type_="official_travel", subtype=None, start="2026-03-03", end="2026-03-05",
                                 destination=BADUNG, destination_name="Kantor Bupati Badung"))
    assert out["day_status"] == "official_travel"
    approved = decide(api, out["request_id"]).json
    site_id = approved["site_id"]
    assert site_id == f"dl-{out['request_id']}"
    # Then the assignment site is there, for the request's dates
    sites = {s["site_id"]: s for s in api.get(f"/admin/employees/{AYU}/sites", user=KETUT).json["sites"]}
    assert (sites[site_id]["kind"], sites[site_id]["work_mode"], sites[site_id]["valid_from"],
            sites[site_id]["valid_to"]) == ("assignment", "DL", "2026-03-03", "2026-03-05")
    # When Ayu checks in at the destination
    set_now("2026-03-03T07:45:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(lat=-8.58192, lon=115.17703))
    # Then it is accepted as dinas luar at that site
    assert r.status_code == 201, r.json
    assert (r.json["decision"], r.json["work_mode"], r.json["geo"]["site_id"]) == ("accepted", "DL", site_id)
    # And on Wednesday, without a check-in, the day is official_travel rather than absent
    set_now("2026-03-04T10:30:00+08:00")
    run("detect_absence_wita")
    staff = {s["nip"]: s["status"] for s in api.get("/team/attendance?date=2026-03-04", user=KETUT).json["staff"]}
    assert staff[AYU] == "official_travel"


def test_the_supervisor_digest_lists_pending_requests_with_their_ids(api, set_now, tap):
    set_now(NOW)
    out = submit(api)
    set_now("2026-03-03T10:30:00+08:00")
    run("detect_absence_wita")
    [digest] = [n for n in tap() if n.get("kind") == "absence_notice" and n["supervisor_nip"] == KETUT]
    assert [(q["request_id"], q["nip"], q["level"]) for q in digest["pending_requests"]] == [
        (out["request_id"], AYU, 1)]


def test_jakarta_staff_requests_stay_in_their_units_view(api, set_now):
    set_now("2026-03-03T07:00:00+07:00")
    out = submit(api, ANDI, leave(start="2026-03-16", end="2026-03-17"))
    assert [r["request_id"] for r in api.get("/team/requests", user=BUDI).json["requests"]] == [out["request_id"]]
    assert api.get("/team/requests", user=KETUT).json["requests"] == []


# --- racing submissions ------------------------------------------------------------------------------
def reading_before(monkeypatch, meanwhile):
    """Make the next submission's read of the employee's requests return what was stored before
    ``meanwhile()`` (another submission landing between that read and the write)."""
    from chalicelib.wiring import get_services
    records = get_services().records
    real, done = records.requests_of, []

    def stale_read(nip, *args, **kwargs):
        found = real(nip, *args, **kwargs)
        if not done:
            done.append(None)  # once: the submission meanwhile reads as usual
            done[0] = meanwhile()
        return found
    monkeypatch.setattr(records, "requests_of", stale_read)
    return done


def test_of_two_racing_overlapping_submissions_the_second_is_checked_again_and_refused(api, today, monkeypatch):
    # Given Ayu's leave for 10-12 March lands while her leave for 9-11 March is being checked
    raced = reading_before(monkeypatch, lambda: submit(api, body=leave("2026-03-10", "2026-03-12")))
    r = api.post("/me/requests", leave(), user=AYU)
    # Then the second, checked on a read without the first, is checked again: overlapping_request
    assert (r.status_code, r.json["error"]["code"]) == (409, "overlapping_request")
    assert [c["request_id"] for c in r.json["error"]["details"]["requests"]] == [raced[0]["request_id"]]
    assert [x["request_id"] for x in api.get("/me/requests", user=AYU).json["requests"]] == [raced[0]["request_id"]]


def test_two_racing_submissions_that_do_not_clash_are_both_stored(api, today, monkeypatch):
    reading_before(monkeypatch, lambda: submit(api, body=leave("2026-03-16", "2026-03-17")))
    assert api.post("/me/requests", leave(), user=AYU).status_code == 201
    mine = api.get("/me/requests", user=AYU).json
    assert [x["start"] for x in mine["requests"]] == ["2026-03-09", "2026-03-16"]
    assert mine["leave_balance"]["reserved"] == 5


def test_a_request_the_index_does_not_list_yet_still_counts(api, today, monkeypatch):
    # Given a request just stored, which the eventually consistent by-employee index misses
    first = submit(api)
    from chalicelib.wiring import get_services
    records = get_services().records
    real = records.requests_of
    monkeypatch.setattr(records, "requests_of", lambda nip, *a, **kw: [
        x for x in real(nip, *a, **kw) if x.request_id != first["request_id"]])
    # When an overlapping one is asked for, then it is refused (the ledger names the first)
    r = api.post("/me/requests", leave("2026-03-11", "2026-03-13"), user=AYU)
    assert (r.status_code, r.json["error"]["code"]) == (409, "overlapping_request")
