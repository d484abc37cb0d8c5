"""Work from home seen at a glance (issue 15, item 3): on a WFH day the team view shows whether
the person checked in, is online and wrote their daily work report; a required report not written
by the cut-off (in the office's time zone) is a reason on the day (``report_due`` before,
``report_missing`` after), in the day views and the supervisors' digest, and the monthly recap
counts required reports per employee."""
import csv
import io

import requests as http

from tests.api.helpers import AYU, BUDI, KETUT, MADE, check_in, checkin_session, enrol, location

HOME = {"lat": -8.54052, "lon": 115.12503}  # Made's registered home in Tabanan
CUTOFF = "2026-03-04T09:00:00+08:00"  # the next morning, WITA (Denpasar)


def given_made_works_from_home(api, set_now, end="2026-03-03"):
    """Made's WFH request for Tuesday 3 March (and on to ``end``), approved by Ketut."""
    set_now("2026-03-03T07:30:00+08:00")
    r = api.post("/me/requests", {"type": "wfh", "start": "2026-03-03", "end": end,
                                  "reason": "WFH atas penugasan"}, user=MADE)
    assert r.status_code == 201, r.json
    assert api.post(f"/team/requests/{r.json['request_id']}", {"decision": "approve"}, user=KETUT).status_code == 200


def now_of(api, user=KETUT, path="/team/now"):
    r = api.get(path, user=user)
    assert r.status_code == 200, r.json
    return {s["nip"]: s for s in r.json["staff"]}


def codes(view):
    return [r["code"] for r in view["reasons"]]


def write(api, day="2026-03-03", nip=MADE):
    return api.put(f"/me/reports/{day}", {"text": "Menyusun rekap surat masuk"}, user=nip)


def test_the_team_view_shows_a_wfh_days_check_in_and_report_as_it_goes(api, set_now):
    # Given Made works from home on Tuesday, checks in at home, and Ayu works in the office
    given_made_works_from_home(api, set_now)
    clock = set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, MADE).status_code == 201
    r = check_in(api, MADE, checkin_session(api, MADE), loc=location(**HOME))
    assert r.status_code == 201 and r.json["work_mode"] == "WFH", r.json
    clock.advance(minutes=5)
    # When Ketut looks at his team
    team = now_of(api)
    # Then Made's day says checked in, online, and the report due until tomorrow 09:00 WITA
    made = team[MADE]
    assert made["online"] is True
    assert made["work_day"] == {"work_mode": "WFH", "source": "request", "checked_in": True, "report": "none",
                                "report_due": "due", "cutoff": CUTOFF}
    [due] = [r for r in made["reasons"] if r["code"] == "report_due"]
    assert due == {"code": "report_due", "effect": "info", "date": "2026-03-03", "work_mode": "WFH",
                   "source": "request", "cutoff": CUTOFF, "timezone": "Asia/Makassar"}
    # And Ayu's office day asks for no report
    assert team[AYU]["work_day"] is None and not {"report_due", "report_missing"} & set(codes(team[AYU]))
    # When Made writes his report: submitted, nothing due; when Ketut accepts it: accepted
    assert write(api).status_code == 200
    made = now_of(api)[MADE]
    assert (made["work_day"]["report"], made["work_day"]["report_due"]) == ("submitted", None)
    assert "report_due" not in codes(made)
    assert api.post(f"/team/reports/{MADE}/2026-03-03", {"decision": "accept"}, user=KETUT).status_code == 200
    assert now_of(api)[MADE]["work_day"]["report"] == "accepted"


def test_another_units_supervisor_never_sees_the_wfh_day_nor_its_report(api, set_now):
    # Given Made works from home and wrote his report
    given_made_works_from_home(api, set_now)
    set_now("2026-03-03T16:00:00+08:00")
    assert write(api).status_code == 200
    # When Budi (Jakarta's supervisor) looks at his team: neither Made nor his report
    assert MADE not in now_of(api, user=BUDI) and AYU not in now_of(api, user=BUDI)
    # And an employee has no team view at all
    assert api.get("/team/now", user=AYU).status_code == 403
    # While an admin, naming Made's unit, sees his day and its report
    assert now_of(api, user="admin", path="/team/now?unit=Bagian Umum Denpasar")[MADE]["work_day"]["report"] == "submitted"


def test_the_report_is_due_before_the_cut_off_and_missing_after_in_the_offices_time_zone(api, set_now):
    # Given Made's WFH Tuesday without a report
    given_made_works_from_home(api, set_now)
    # When Ketut and Made look at Tuesday a minute before 09:00 WITA on Wednesday (07:59 WIB)
    set_now("2026-03-04T08:59:00+08:00")
    team = {s["nip"]: s for s in api.get("/team/attendance?date=2026-03-03", user=KETUT).json["staff"]}
    [mine] = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=MADE).json["days"]
    # Then the report is due, not missing
    assert "report_due" in codes(team[MADE]) and "report_due" in codes(mine)
    assert not {"report_due", "report_missing"} & set(codes(team[AYU]))  # a WFO day: no reason
    # When it is 09:00 WITA: missing, with the date, the mode and the cut-off as data
    set_now(CUTOFF)
    team = {s["nip"]: s for s in api.get("/team/attendance?date=2026-03-03", user=KETUT).json["staff"]}
    [missing] = [r for r in team[MADE]["reasons"] if r["code"] == "report_missing"]
    assert missing == {"code": "report_missing", "effect": "flag", "date": "2026-03-03", "work_mode": "WFH",
                       "source": "request", "cutoff": CUTOFF, "timezone": "Asia/Makassar"}
    [mine] = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=MADE).json["days"]
    assert "report_missing" in codes(mine) and "report_due" not in codes(mine)
    # And Budi's team view of the same date never lists Made
    assert MADE not in {s["nip"] for s in api.get("/team/attendance?date=2026-03-03", user=BUDI).json["staff"]}


def test_the_supervisors_digest_lists_a_missing_report(api, set_now, tap):
    # Given Made's WFH Tuesday without a report
    given_made_works_from_home(api, set_now)
    # When absence detection runs on Wednesday after the check-in window (past the cut-off)
    set_now("2026-03-04T10:30:00+08:00")
    from chalicelib.api.events import HANDLERS
    report = HANDLERS["detect_absence_wita"]({})
    # Then Ketut's digest names Made's missing report of Tuesday with its reason
    assert report["reports_missing"] == 1
    [notice] = [n for n in tap() if n.get("supervisor_nip") == KETUT]
    [m] = notice["reports_missing"]
    assert (m["nip"], m["date"], m["reason"]["code"], m["reason"]["cutoff"]) == (
        MADE, "2026-03-03", "report_missing", CUTOFF)
    from chalicelib.services.notices import _absence_email
    assert "Required daily work reports not written by the cut-off" in _absence_email(notice)[2]


def test_a_report_written_before_the_cut_off_is_not_in_the_digest(api, set_now, tap):
    given_made_works_from_home(api, set_now)
    set_now("2026-03-03T16:00:00+08:00")
    assert write(api).status_code == 200
    set_now("2026-03-04T10:30:00+08:00")
    from chalicelib.api.events import HANDLERS
    assert HANDLERS["detect_absence_wita"]({})["reports_missing"] == 0
    digests = [n for n in tap() if n.get("kind") == "absence_notice"]
    assert digests and all(n["reports_missing"] == [] for n in digests)


def test_the_monthly_recap_counts_required_reports_per_employee(api, set_now):
    # Given Made's WFH Tuesday and Wednesday: Tuesday's report written and accepted, none for Wednesday
    given_made_works_from_home(api, set_now, end="2026-03-04")
    set_now("2026-03-03T16:00:00+08:00")
    assert write(api).status_code == 200
    assert api.post(f"/team/reports/{MADE}/2026-03-03", {"decision": "accept"}, user=KETUT).status_code == 200
    # When the admin produces March's recap in April
    set_now("2026-04-02T09:00:00+08:00")
    r = api.post("/admin/recaps", {"month": "2026-03"}, user="admin")
    assert r.status_code == 201, r.json
    listing = api.get("/audit/recaps?month=2026-03", user="auditor").json
    url = next(f["url"] for f in listing["files"] if f["key"].endswith("recap.csv"))
    rows = {row["nip"]: row for row in csv.DictReader(io.StringIO(http.get(url, timeout=5).content.decode()))}
    # Then Made: 2 required, 1 submitted, 1 accepted, 1 missing; Ayu (office days): none required
    counts = ("reports_required", "reports_submitted", "reports_accepted", "reports_missing")
    assert [rows[MADE][c] for c in counts] == ["2", "1", "1", "1"]
    assert [rows[AYU][c] for c in counts] == ["0", "0", "0", "0"]


def test_mondays_digest_names_fridays_missing_report_once(api, set_now, tap):
    # Given Made's WFH Friday 6 March without a report (its cut-off Saturday 09:00 WITA, no run on weekends)
    set_now("2026-03-06T07:30:00+08:00")
    r = api.post("/me/requests", {"type": "wfh", "start": "2026-03-06", "end": "2026-03-06", "reason": "WFH"},
                 user=MADE)
    assert api.post(f"/team/requests/{r.json['request_id']}", {"decision": "approve"}, user=KETUT).status_code == 200
    from chalicelib.api.events import HANDLERS
    # When absence detection runs on Monday, then on Tuesday
    set_now("2026-03-09T10:30:00+08:00")
    monday = HANDLERS["detect_absence_wita"]({})
    [notice] = [n for n in tap() if n.get("kind") == "absence_notice" and n["supervisor_nip"] == KETUT]
    set_now("2026-03-10T10:30:00+08:00")
    tuesday = HANDLERS["detect_absence_wita"]({})
    # Then Monday's digest names Friday's missing report, Tuesday's does not again
    assert [(m["nip"], m["date"]) for m in notice["reports_missing"]] == [(MADE, "2026-03-06")]
    assert (monday["reports_missing"], tuesday["reports_missing"]) == (1, 0)
