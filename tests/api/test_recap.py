"""POST /admin/recaps and GET /audit/recaps: a hand-computed month over moto.

The month (March 2026, Denpasar, WITA; work 08:00-15:30):
- 3 March: Ayu checks in 08:40 (40 min late: TL2 1 %) and out 15:00 (30 min early: PSW1 0.5 %);
  Made and Ketut have no check-in (absence detection: absent, 4 % each); Made's excuse
  (important reason) for 3 March is approved: excused, no cut.
- 4 March: Ayu checks in 07:45 (on time) and never checks out (PSW4, no record: 2 %); Made and
  Ketut absent again (4 % each).
Every other working day has no record (listed, not cut). So Ayu 3.5 %, Made 4 %, Ketut 8 %.
"""
from __future__ import annotations

import csv
import io
import json

import pytest
import requests as http

from chalicelib.wiring import get_services
from tests.api.helpers import AYU, KETUT, MADE, check_in, checkin_session, enrol, location
from tests.api.test_jobs import run

# 22 weekdays less Nyepi (19 March) and cuti bersama (18, 20, 23 and 24 March: Nyepi, Idul Fitri)
MARCH_WORKING_DAYS = 17


def given_the_month(api, set_now):
    set_now("2026-03-03T06:30:00+08:00")
    assert enrol(api, AYU).status_code == 201
    set_now("2026-03-03T08:40:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(captured_at="2026-03-03T08:39:50+08:00"))
    assert r.status_code == 201, r.json
    set_now("2026-03-03T10:30:00+08:00")
    run("detect_absence_wita")
    set_now("2026-03-03T15:00:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU), kind="out", loc=location(captured_at="2026-03-03T14:59:50+08:00"))
    assert r.status_code == 201, r.json
    r = api.post("/me/requests", {"type": "excuse", "subtype": "important_reason", "start": "2026-03-03",
                                  "end": "2026-03-03", "reason": "Upacara adat keluarga"}, user=MADE)
    assert r.status_code == 201, r.json
    r = api.post(f"/team/requests/{r.json['request_id']}", {"decision": "approve", "comment": "ok"}, user=KETUT)
    assert r.status_code == 200, r.json
    set_now("2026-03-04T07:45:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(captured_at="2026-03-04T07:44:50+08:00"))
    assert r.status_code == 201, r.json
    set_now("2026-03-04T10:30:00+08:00")
    run("detect_absence_wita")


def rows_of(url: str) -> dict[str, dict[str, str]]:
    body = http.get(url, timeout=5).content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    return {r.get("nip") or r["unit"]: r for r in rows}


def test_the_recap_of_a_hand_computed_month(api, set_now):
    given_the_month(api, set_now)
    set_now("2026-04-02T09:00:00+08:00")
    working = MARCH_WORKING_DAYS
    # When the admin produces March's recap
    r = api.post("/admin/recaps", {"month": "2026-03"}, user="admin")
    # Then a run with three write-once files, chained to nothing before it
    assert r.status_code == 201, r.json
    out = r.json
    assert out["month"] == "2026-03" and out["from"] == "2026-03-01" and out["through"] == "2026-03-31"
    assert [f["name"] for f in out["files"]] == ["recap.csv", "units.csv", "manifest.json", "recap.parquet",
                                                 "units.parquet"]
    assert all("recap/year=2026/month=03/agency=pemkab-demo/run=" in f["key"] for f in out["files"][:3])
    assert [f["key"] for f in out["files"][3:]] == [  # the analytics tables' (docs/analytics.md)
        f"analytics/{t}/year=2026/month=03/agency=pemkab-demo/run={out['run_id']}.parquet" for t in ("recap", "units")]
    assert out["sequence"] == 1 and out["previous_manifest_sha256"] is None
    # And the auditor downloads them
    listing = api.get("/audit/recaps?month=2026-03", user="auditor")
    assert listing.status_code == 200, listing.json
    urls = {f["key"].rsplit("/", 1)[-1]: f["url"] for f in listing.json["files"]}
    recap = rows_of(urls["recap.csv"])
    ayu, made, ketut = recap[AYU], recap[MADE], recap[KETUT]
    # Ayu: TL2 + PSW1 on the 3rd, PSW4 (no check-out) on the 4th
    assert ayu["working_days"] == str(working) and ayu["days_present"] == "2" and ayu["days_wfo"] == "2"
    assert (ayu["tl2"], ayu["psw1"], ayu["psw4"], ayu["tl1"]) == ("1", "1", "1", "0")
    assert float(ayu["cut_percent"]) == 3.5
    assert [(c["date"], c["code"], c["percent"]) for c in json.loads(ayu["cut_reasons"])] == [
        ("2026-03-03", "late", 1.0), ("2026-03-03", "early_leave", 0.5), ("2026-03-04", "no_checkout", 2.0)]
    assert ayu["days_unrecorded"] == str(working - 2)
    # Made: excused on the 3rd (no cut), absent on the 4th
    assert (made["days_excused"], made["absent_with_notice"], made["absent_without_notice"]) == ("1", "1", "1")
    assert float(made["cut_percent"]) == 4.0 and made["absent_year_to_date"] == "1"
    assert json.loads(made["cut_reasons"]) == [{"date": "2026-03-04", "code": "absent", "percent": 4.0}]
    # Ketut: absent twice
    assert float(ketut["cut_percent"]) == 8.0 and ketut["absent_year_to_date"] == "2"
    # And the unit's totals add its staff up
    unit = rows_of(urls["units.csv"])["Bagian Umum Denpasar"]
    assert unit["employees"] == "3" and unit["days_present"] == "2" and unit["absent_without_notice"] == "3"
    assert float(unit["cut_percent_mean"]) == pytest.approx((3.5 + 4 + 8) / 3, abs=0.01)  # cells keep 2 decimals
    manifest = http.get(urls["manifest.json"], timeout=5).json()
    assert manifest["rows"] == len(recap) and {f["name"] for f in manifest["files"]} == {"recap.csv", "units.csv"}


def test_a_second_run_is_new_and_chained_and_audited(api, set_now):
    set_now("2026-04-02T09:00:00+08:00")
    first = api.post("/admin/recaps", {"month": "2026-03"}, user="admin").json
    second = api.post("/admin/recaps", {"month": "2026-03"}, user="admin")
    assert second.status_code == 201
    assert second.json["run_id"] > first["run_id"] and second.json["sequence"] == 2
    assert second.json["previous_manifest_sha256"] == first["manifest_sha256"]
    runs = api.get("/audit/recaps?month=2026-03", user="auditor").json["runs"]
    assert [r["run_id"] for r in runs] == [first["run_id"], second.json["run_id"]]
    assert all(f["version_id"] for r in runs for f in r["files"])
    # And April's first run chains to March's last
    set_now("2026-04-20T09:00:00+08:00")
    april = api.post("/admin/recaps", {"month": "2026-04"}, user="admin").json
    assert april["sequence"] == 1 and april["previous_manifest_sha256"] == second.json["manifest_sha256"]
    assert april["through"] == "2026-04-19"
    log = api.get("/audit/log?from=2026-04-02&to=2026-04-20&actor=admin", user="auditor")
    assert log.status_code == 200, log.json
    assert sum(1 for e in log.json["entries"] if e["action"] == "recap_written") == 3


@pytest.mark.parametrize("month", ["2026-3", "2026-13", "26-03", "2026-03-01", "1999-12", "", 202603])
def test_a_bad_month_is_refused(api, set_now, month):
    set_now("2026-04-02T09:00:00+08:00")
    r = api.post("/admin/recaps", {"month": month}, user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_month"


def test_a_future_month_is_refused_and_nothing_is_written(api, set_now):
    set_now("2026-04-02T09:00:00+08:00")
    r = api.post("/admin/recaps", {"month": "2026-05"}, user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_month"
    assert get_services().exports.list("recap/") == []
    assert api.get("/audit/recaps?month=2026-05", user="auditor").status_code == 404


def test_the_month_that_began_in_wit_only_is_not_future_and_counts_nothing_yet(api, set_now):
    # 1 May 00:30 WIT is still 30 April in WIB: May is allowed, with no day ended yet
    set_now("2026-05-01T00:30:00+09:00")
    r = api.post("/admin/recaps", {"month": "2026-05"}, user="admin")
    assert r.status_code == 201, r.json
    assert r.json["through"] < r.json["from"]
    recap = rows_of(next(f for f in api.get("/audit/recaps?month=2026-05", user="auditor").json["files"]
                         if f["key"].endswith("recap.csv"))["url"])
    assert recap[AYU]["working_days"] == "0" and recap[AYU]["cut_percent"] == "0.0"


@pytest.mark.parametrize("user", [AYU, KETUT, "auditor"])
def test_only_an_admin_produces_a_recap(api, set_now, user):
    set_now("2026-04-02T09:00:00+08:00")
    r = api.post("/admin/recaps", {"month": "2026-03"}, user=user)
    assert r.status_code == 403
    assert get_services().exports.list("recap/") == []


@pytest.mark.parametrize("user", [AYU, KETUT])
def test_employees_and_supervisors_cannot_list_recaps(api, set_now, user):
    set_now("2026-04-02T09:00:00+08:00")
    api.post("/admin/recaps", {"month": "2026-03"}, user="admin")
    r = api.get("/audit/recaps?month=2026-03", user=user)
    assert r.status_code == 403


def test_audit_recaps_needs_a_month(api):
    assert api.get("/audit/recaps", user="auditor").status_code == 422  # missing_fields
    assert api.get("/audit/recaps?month=03-2026", user="auditor").status_code == 422
    r = api.get("/audit/recaps?month=2026-02", user="admin")
    assert r.status_code == 404 and r.json["error"]["code"] == "recap_not_found"


def test_audit_recaps_lists_only_this_agencys_runs_and_a_run_chains_only_to_its_own(api, set_now):
    # Given another agency's recap run in the same bucket
    import boto3
    bucket = get_services().settings.buckets["exports"]
    boto3.client("s3", region_name="ap-southeast-3").put_object(
        Bucket=bucket, Key="recap/year=2026/month=03/agency=pemkab-lain/run=20260401T000000000000Z-aa/manifest.json",
        Body=b'{"run_sequence": 7}', IfNoneMatch="*")
    # When / Then: this deployment's auditor sees nothing for March
    r = api.get("/audit/recaps?month=2026-03", user="auditor")
    assert r.status_code == 404 and r.json["error"]["code"] == "recap_not_found"
    # And this agency's first run of March chains to nothing of the other's
    set_now("2026-04-02T09:00:00+08:00")
    out = api.post("/admin/recaps", {"month": "2026-03"}, user="admin").json
    assert out["sequence"] == 1 and out["previous_manifest_sha256"] is None
