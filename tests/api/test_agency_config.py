"""/admin/config/calendar and /admin/config/lateness: admins only, versioned, audited, and used by
check-ins and absence detection (issue 12)."""
import pytest

from tests.api.helpers import AYU, KETUT, check_in, checkin_session, enrol, location


def run(handler_name):
    from chalicelib.api.events import HANDLERS
    return HANDLERS[handler_name]({})


CALENDAR = {"years": {"2026": {
    "cuti_bersama": [{"date": "2026-02-16", "name": "Cuti Bersama Imlek"}],
    "agency_holidays": [{"date": "2026-03-04", "name": "HUT Kanwil"}],
    "regional_holidays": {"51": [{"date": "2026-08-14", "name": "HUT Provinsi Bali"}]}}},
    "source": "SKB 2026 (agency reading)"}
TABLE = {"late": [{"tier": "TL1", "min_minutes": 1, "max_minutes": 60, "percent": 0.5},
                  {"tier": "TL2", "min_minutes": 61, "max_minutes": None, "percent": 1.0}],
         "early_leave": [{"tier": "PSW1", "min_minutes": 1, "max_minutes": 60, "percent": 0.5},
                         {"tier": "PSW2", "min_minutes": 61, "max_minutes": None, "percent": 1.0}],
         "absent_percent": 3.0, "grace_minutes": 20, "daily_cap_percent": 1.5,
         "missing_checkout_counts": False, "source": "Perbup 2026"}


def put(api, kind, document, version=None, user="admin"):
    return api.put(f"/admin/config/{kind}", {"version": version, "document": document}, user=user)


def test_nothing_stored_shows_the_defaults_with_no_version(api):
    cal = api.get("/admin/config/calendar", user="admin")
    assert cal.status_code == 200, cal.json
    assert (cal.json["version"], cal.json["stored"]) == (None, False)
    assert len(cal.json["document"]["years"]["2026"]["cuti_bersama"]) == 8
    assert len(cal.json["document"]["years"]["2025"]["cuti_bersama"]) == 11
    late = api.get("/admin/config/lateness", user="admin").json
    assert late["document"]["source"] == "Permentan 68/2012" and late["version"] is None
    assert [t["percent"] for t in late["document"]["late"]] == [0.5, 1.0, 1.5, 2.0]


def test_an_admin_sets_the_calendar_then_changes_it_with_the_version_read(api):
    first = put(api, "calendar", CALENDAR)
    assert first.status_code == 200, first.json
    assert (first.json["version"], first.json["updated_by"]) == (1, "admin")
    second = put(api, "calendar", {**CALENDAR, "source": "revisi"}, version=1)
    assert second.json["version"] == 2
    assert api.get("/admin/config/calendar", user="admin").json["document"]["source"] == "revisi"


@pytest.mark.parametrize("version", [None, 1])
def test_a_stale_put_is_409_config_changed_and_nothing_is_written(api, version):
    # Given two admins read version 1 (or nothing) and the other already saved version 2
    put(api, "lateness", TABLE)
    put(api, "lateness", {**TABLE, "grace_minutes": 10}, version=1)
    # When this one saves what it read
    r = put(api, "lateness", {**TABLE, "grace_minutes": 0}, version=version)
    # Then 409 config_changed, and version 2 stands
    assert r.status_code == 409 and r.json["error"]["code"] == "config_changed"
    assert r.json["error"]["details"]["stored_version"] == 2
    assert api.get("/admin/config/lateness", user="admin").json["document"]["grace_minutes"] == 10


@pytest.mark.parametrize("user", ["supervisor", "employee", "auditor"])
@pytest.mark.parametrize("method,kind", [("GET", "calendar"), ("PUT", "calendar"), ("GET", "lateness"),
                                         ("PUT", "lateness")])
def test_only_admins_read_or_set_the_configuration(api, user, method, kind):
    who = {"supervisor": KETUT, "employee": AYU, "auditor": "auditor"}[user]
    body = {"version": None, "document": CALENDAR if kind == "calendar" else TABLE}
    r = api.call(method, f"/admin/config/{kind}", body if method == "PUT" else None, user=who)
    assert r.status_code == 403, r.json
    assert api.get(f"/admin/config/{kind}", user="admin").json["stored"] is False


@pytest.mark.parametrize("document, field, code", [
    ({"years": {"2026": {"cuti_bersama": [{"date": "2027-01-01", "name": "x"}]}}},
     "years.2026.cuti_bersama[0]", "outside_year"),
    ({"years": {"2026": {"cuti_bersama": [{"date": "2026-02-16", "name": "a"},
                                          {"date": "2026-02-16", "name": "b"}]}}},
     "years.2026.cuti_bersama[1]", "duplicate_date"),
])
def test_a_bad_calendar_is_422_invalid_calendar_with_its_problems(api, document, field, code):
    r = put(api, "calendar", document)
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_calendar"
    assert (field, code) in [(p["field"], p["code"]) for p in r.json["error"]["details"]["problems"]]
    assert api.get("/admin/config/calendar", user="admin").json["stored"] is False


@pytest.mark.parametrize("body", [
    {"version": None, "document": {"years": {"2026": {"cuti_bersama": [{"date": "16-02-2026", "name": "x"}]}}}},
    {"version": 0, "document": CALENDAR},
    {"version": "1", "document": CALENDAR},
    {"document": "everything"},
])
def test_malformed_calendar_bodies_are_invalid_calendar(api, body):
    r = api.put("/admin/config/calendar", body, user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] in ("invalid_calendar", "missing_fields"), r.json


def test_a_calendar_too_large_for_one_item_is_refused(api):
    # Given 4 years of 40 provinces with 20 long-named days each (every list within its bound,
    # the body within the 2 MiB limit, the document over 256 KiB)
    def days(y):
        return [{"date": f"{y}-01-{d + 1:02d}", "name": "x" * 120} for d in range(20)]
    doc = {"years": {str(y): {"regional_holidays": {f"{p:02d}": days(y) for p in range(11, 51)}}
                     for y in range(2025, 2029)}}
    r = put(api, "calendar", doc)
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_calendar", r.json
    assert r.json["error"]["details"]["problems"][0]["code"] == "too_large"
    assert api.get("/admin/config/calendar", user="admin").json["stored"] is False


@pytest.mark.parametrize("change, field, code", [
    ({"grace_minutes": 500}, "grace_minutes", "out_of_range"),
    ({"daily_cap_percent": -1}, "daily_cap_percent", "not_a_percent"),
    ({"late": [{"tier": "TL1", "min_minutes": 5, "max_minutes": None, "percent": 1}]}, "late[0]", "not_contiguous"),
])
def test_a_bad_table_is_422_invalid_lateness_table(api, change, field, code):
    r = put(api, "lateness", {**TABLE, **change})
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_lateness_table"
    assert (field, code) in [(p["field"], p["code"]) for p in r.json["error"]["details"]["problems"]]


def test_each_change_is_audited_with_the_versions(api):
    put(api, "calendar", CALENDAR)
    put(api, "calendar", CALENDAR, version=1)
    r = api.get("/audit/log?subject=config%23calendar", user="auditor")
    assert r.status_code == 200, r.json
    assert [(e["action"], e["before"], e["after"]) for e in r.json["entries"]] == [
        ("config_changed", {"version": None}, {"version": 1}),
        ("config_changed", {"version": 1}, {"version": 2})]


def test_no_absence_is_recorded_on_a_configured_agency_holiday(api, set_now, tap):
    # Given 4 March 2026 (a Wednesday) an agency holiday
    put(api, "calendar", CALENDAR)
    set_now("2026-03-04T10:30:00+08:00")
    # When absence detection runs after the check-in window, Then nobody is absent
    assert run("detect_absence_wita")["absent"] == 0
    # And on 3 March, an ordinary day, they are
    set_now("2026-03-03T10:30:00+08:00")
    assert run("detect_absence_wita")["absent"] > 0


def test_no_absence_on_the_default_cuti_bersama(api, set_now, tap):
    set_now("2026-03-23T10:30:00+08:00")  # Cuti Bersama Idul Fitri (SKB 2026)
    assert run("detect_absence_wita")["absent"] == 0


@pytest.mark.parametrize("at, reason, tier", [
    ("08:15", "on_time", None),  # 15 minutes late: inside the 20 grace minutes (the default: TL1)
    ("08:45", "late", "TL1"),  # 45 minutes: TL1 0.5 % of the two-tier table (the default: TL2 1 %)
])
def test_a_check_in_is_classified_by_the_stored_table(api, set_now, at, reason, tier):
    # Given the two-tier table with 20 grace minutes, and the office's work starting at 08:00
    put(api, "lateness", TABLE)
    enrol(api, AYU)
    set_now(f"2026-03-03T{at}:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(captured_at=f"2026-03-03T{at}:00+08:00"))
    assert r.status_code == 201, r.json
    timing = next(x for x in r.json["reasons"] if x["code"] in ("on_time", "late"))
    assert (timing["code"], timing.get("tier")) == (reason, tier)
