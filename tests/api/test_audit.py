"""GET /audit/log: every privileged action on the log, for auditors and admins only, by UTC date,
filtered and paginated; malformed dates, ranges, limits and cursors are 422s, never 500s."""
import base64
import json

import pytest

from tests.api.helpers import AYU, KETUT, enrol

KOMANG = "198702142011012003"
PASSWORD = "Sementara-123"
DAY = "2026-03-03"  # 10:00 WITA is 02:00 UTC: the same date
OFFICE = {"office_id": "kantor-gianyar", "name": "Kantor Gianyar", "timezone": "Asia/Makassar",
          "geofence": {"type": "circle", "lat": -8.54, "lon": 115.33, "radius_m": 100}}
SITE = {"site_id": "rumah-komang", "kind": "home",
        "geofence": {"type": "circle", "lat": -8.6, "lon": 115.2, "radius_m": 80}}


def log(api, user="auditor", **params):
    query = "&".join(f"{k if k != 'start' else 'from'}={v}" for k, v in params.items())
    return api.get("/audit/log" + (f"?{query}" if query else ""), user=user)


def everything(api, **params):
    """Every entry, following next_cursor page by page."""
    entries, cursor = [], None
    while True:
        r = log(api, **params, **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.json
        entries += r.json["entries"]
        cursor = r.json["next_cursor"]
        if cursor is None:
            return entries


@pytest.fixture
def steps(api, set_now):
    """An admin's working morning: an office, an import, a site, an enrolment, a new phone, a
    reset, the site removed again; then the night's export."""
    set_now(f"{DAY}T10:00:00+08:00")
    assert api.post("/admin/offices", OFFICE, user="admin").status_code == 201
    row = {"nip": KOMANG, "name": "Komang Sari", "office_ids": ["kantor-gianyar"], "supervisor_nip": KETUT,
           "password": PASSWORD}
    assert api.post("/admin/employees", [row], user="admin").json["created"] == 1
    assert api.post(f"/admin/employees/{KOMANG}/sites", SITE, user="admin").status_code == 201
    assert enrol(api, AYU).status_code == 201
    assert api.put(f"/admin/employees/{AYU}/device", {"device_id": "phone-new-1"}, user=KETUT).status_code == 200
    assert api.delete(f"/admin/employees/{AYU}/enrollment?reason=new+glasses", user="admin").status_code == 200
    assert api.delete(f"/admin/employees/{KOMANG}/sites/rumah-komang", user=KETUT).status_code == 200
    set_now("2026-03-04T00:31:00+07:00")
    from chalicelib.api.events import HANDLERS
    HANDLERS["export_wib"]({})


def test_each_privileged_step_is_on_the_log_in_order_with_before_and_after(api, steps):
    # When an auditor reads the day's log
    entries = everything(api, start=DAY, to=DAY)
    # Then every step is there, oldest first, with who did it
    assert [(e["action"], e["actor"], e["subject"]) for e in entries] == [
        ("office_created", "admin", "office#kantor-gianyar"),
        ("employee_created", "admin", f"employee#{KOMANG}"),
        ("site_assigned", "admin", f"employee#{KOMANG}"),
        ("biometric_consent_given", AYU, f"employee#{AYU}"),
        ("device_bound", KETUT, f"employee#{AYU}"),
        ("enrolment_reset", "admin", f"employee#{AYU}"),
        ("site_removed", KETUT, f"employee#{KOMANG}"),
        ("export_written", "scheduler", "export#2026-03-03"),  # 00:31 WIB on the 4th: 17:31 UTC
    ]
    office, imported, *_ = entries
    assert office["before"] is None and office["after"]["timezone"] == "Asia/Makassar"
    assert imported["after"]["supervisor_nip"] == KETUT and imported["details"]["password_set"] is True
    # And the password itself is nowhere
    assert PASSWORD not in json.dumps(entries)
    # And the export run carries the checksums it wrote
    run = entries[-1]
    assert run["before"] is None and any(k.endswith("/audit.csv") for k in run["after"]["files"])


@pytest.mark.parametrize("user,status", [("auditor", 200), ("admin", 200), (AYU, 403), (KETUT, 403)])
def test_only_auditors_and_admins_read_the_log(api, user, status):
    r = log(api, user=user)
    assert r.status_code == status, r.json
    if status == 403:
        assert "entries" not in r.json


def test_the_log_needs_a_token(api):
    assert api.get("/audit/log").status_code == 401


def test_filters_by_actor_and_subject_a_nip_meaning_that_employee(api, steps):
    by_ketut = everything(api, start=DAY, to=DAY, actor=KETUT)
    assert [e["action"] for e in by_ketut] == ["device_bound", "site_removed"]
    about_ayu = everything(api, start=DAY, to=DAY, subject=AYU)
    assert [e["action"] for e in about_ayu] == ["biometric_consent_given", "device_bound", "enrolment_reset"]
    both = everything(api, start=DAY, to=DAY, subject=KOMANG, actor="admin")
    assert [e["action"] for e in both] == ["employee_created", "site_assigned"]
    assert [e["action"] for e in everything(api, start=DAY, to=DAY, subject="office%23kantor-gianyar")] == [
        "office_created"]
    assert everything(api, start=DAY, to=DAY, actor="nobody") == []


def test_pages_follow_the_cursor_without_loss_or_repeat(api, steps):
    whole = log(api, start=DAY, to=DAY, limit=200).json
    assert whole["next_cursor"] is None and whole["from"] == whole["to"] == DAY
    paged = everything(api, start=DAY, to=DAY, limit=2)
    assert paged == whole["entries"] and len(paged) == 8
    first = log(api, start=DAY, to=DAY, limit=2).json
    assert len(first["entries"]) == 2 and first["next_cursor"]


def test_a_default_query_reads_todays_utc_date(api, set_now):
    set_now("2026-03-05T06:30:00+07:00")  # 23:30 UTC on the 4th
    r = log(api)
    assert r.status_code == 200 and r.json["from"] == r.json["to"] == "2026-03-04"


def cursor(payload) -> str:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("params,code", [
    ({"start": "03-03-2026"}, "invalid_date"),
    ({"to": "2026-02-30"}, "invalid_date"),
    ({"start": "2026-03-04", "to": "2026-03-03"}, "invalid_range"),
    ({"start": "2026-03-01", "to": "2026-04-01"}, "invalid_range"),  # 32 days
    ({"limit": "0"}, "invalid_limit"),
    ({"limit": "201"}, "invalid_limit"),
    ({"limit": "ten"}, "invalid_limit"),
    ({"subject": "ayu"}, "invalid_subject"),
    ({"cursor": "not-base64"}, "invalid_cursor"),
    ({"cursor": cursor(b"\xff\xfe")}, "invalid_cursor"),
    ({"cursor": cursor(["a", "b"])}, "invalid_cursor"),
    ({"cursor": cursor({"s": "office#x"})}, "invalid_cursor"),
    ({"cursor": cursor({"s": "office#x", "e": "'; DROP TABLE audit"})}, "invalid_cursor"),
    ({"cursor": cursor({"s": "office#x", "e": "2026-13-45T00:00:00.000+00:00#ab"})}, "invalid_cursor"),
    ({"cursor": cursor({"s": "", "e": "2026-03-03T00:00:00.000+00:00#ab"})}, "invalid_cursor"),
    ({"start": DAY, "to": DAY, "cursor": cursor({"s": "office#x", "e": "2026-02-01T00:00:00.000+00:00#ab"})},
     "invalid_cursor"),  # outside the range asked for
    ({"cursor": "x" * 1025}, "invalid_cursor"),
])
def test_bad_queries_are_422_with_their_code(api, params, code):
    r = log(api, **params)
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == code


def test_a_well_formed_cursor_nobody_returned_only_moves_within_the_range(api, steps):
    # Given a forged cursor at an instant between the steps (all made at 02:00 UTC)
    forged = cursor({"s": "office#x", "e": f"{DAY}T02:00:00.000+00:00#0"})
    # Then the page starts after that place: nothing outside the query, no error
    r = log(api, start=DAY, to=DAY, cursor=forged)
    assert r.status_code == 200 and len(r.json["entries"]) == 8
    late = cursor({"s": "office#x", "e": f"{DAY}T23:59:59.999+00:00#ff"})
    assert log(api, start=DAY, to=DAY, cursor=late).json == {"from": DAY, "to": DAY, "entries": [],
                                                             "next_cursor": None}
