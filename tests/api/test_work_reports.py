"""Daily work reports (laporan kinerja harian, issue 15) through the API: written on a working day
until the cut-off in the office's time zone, with attachments checked by their own bytes, reviewed
by the direct supervisor (accept, or return with a comment), never edited once accepted; read by
the employee, their supervisor chain, admins and auditors only."""
import pytest
import requests as http

from tests.api.helpers import ANDI, AYU, BUDI, KETUT, MADE

NOW = "2026-03-03T16:00:00+08:00"  # a Tuesday afternoon in Denpasar (WITA)
DAY = "2026-03-03"
MARIA, YOHANES = "199406062018082001", "197907072004051001"  # Jayapura (WIT)
PDF = b"%PDF-1.4\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 40 + b"%%EOF\n"
DOCX = b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4
EXE = b"MZ\x90\x00" + bytes(range(256)) * 4
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def today(api, set_now):
    return set_now(NOW)


def code(r):
    return r.status_code, r.json["error"]["code"]


def write(api, nip=AYU, day=DAY, text="Menyusun rekap surat masuk", **extra):
    return api.put(f"/me/reports/{day}", {"text": text, **extra}, user=nip)


def upload(api, data=PDF, content_type="application/pdf", upload_as=None, nip=AYU, day=DAY):
    p = api.post(f"/me/reports/{day}/uploads", {"content_type": content_type}, user=nip)
    assert p.status_code == 201, p.json
    assert api.upload(p.json["upload"], data, upload_as or content_type) in (200, 201, 204)
    return p.json["upload_id"]


def decide(api, decision, comment=None, nip=AYU, day=DAY, user=KETUT):
    return api.post(f"/team/reports/{nip}/{day}", {"decision": decision, "comment": comment}, user=user)


def audit_actions(nip):
    from chalicelib.wiring import get_services
    return [e.action for e in get_services().records.audit_trail(nip) if e.action.startswith("report_")]


def test_a_report_is_written_returned_rewritten_and_accepted_then_never_edited(api, today):
    # When Ayu writes her report with a PDF attached
    pdf = upload(api)
    r = write(api, attachments=[pdf])
    # Then it is submitted, editable until 09:00 WITA the next morning, its attachment a short link
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["editable_until"]) == ("submitted", "2026-03-04T09:00:00+08:00")
    [a] = r.json["attachments"]
    assert (a["attachment_id"], a["content_type"]) == (pdf, "application/pdf")
    assert http.get(a["url"], timeout=5).content == PDF
    # When Ketut returns it without a comment: refused; with one: returned, and she is told
    assert code(decide(api, "return")) == (422, "comment_required")
    r = decide(api, "return", "Sebutkan jumlah surat")
    assert (r.status_code, r.json["status"]) == (200, "returned"), r.json
    assert any(n["topic"] == "report_decided" for n in api.get("/me/notifications", user=AYU).json["items"])
    # And a returned report is not accepted before it is rewritten
    assert code(decide(api, "accept")) == (409, "report_not_submitted")
    # When she rewrites it, keeping the PDF and adding a Word document
    docx = upload(api, DOCX, DOCX_TYPE)
    r = write(api, text="Menyusun rekap 40 surat masuk", attachments=[pdf, docx])
    assert (r.status_code, r.json["status"], len(r.json["attachments"])) == (200, "submitted", 2), r.json
    # And Ketut accepts it
    assert decide(api, "accept").json["status"] == "accepted"
    # Then it is never edited again, nor decided twice
    assert code(write(api, text="ubah")) == (409, "report_accepted")
    assert code(api.post(f"/me/reports/{DAY}/uploads", {"content_type": "application/pdf"}, user=AYU)) == (
        409, "report_accepted")
    assert code(decide(api, "return", "lagi")) == (409, "report_not_submitted")
    # And every change is audited
    assert audit_actions(AYU) == ["report_submitted", "report_returned", "report_resubmitted", "report_accepted"]
    [mine] = api.get("/me/reports", user=AYU).json["reports"]
    assert mine["status"] == "accepted" and mine["editable_until"] is None


def test_the_cut_off_is_the_next_morning_in_the_offices_own_time_zone(api, set_now):
    # Given 09:00 WIT on Wednesday: 08:00 in Denpasar (WITA)
    set_now("2026-03-04T09:00:00+09:00")
    # Then Maria in Jayapura can no longer write Tuesday's report
    r = write(api, nip=MARIA)
    assert code(r) == (409, "report_window_closed")
    assert r.json["error"]["details"] == {"date": DAY, "closed_at": "2026-03-04T09:00:00+09:00",
                                          "timezone": "Asia/Jayapura"}
    # While Ayu in Denpasar still can, for another hour
    assert write(api).status_code == 200
    # And a minute before, Maria could
    set_now("2026-03-04T08:59:00+09:00")
    assert write(api, nip=MARIA).status_code == 200


def test_the_cut_off_is_a_setting(api, set_now, setting):
    setting("HADIR_REPORT_CUTOFF", "+0 23:00")
    set_now("2026-03-03T23:30:00+08:00")
    assert code(write(api)) == (409, "report_window_closed")


@pytest.mark.parametrize("day,expected", [
    ("2026-03-04", (422, "report_in_future")),
    ("2026-03-01", (422, "report_not_working_day")),  # a Sunday
    ("2026-02-30", (422, "invalid_date")),
    ("yesterday", (422, "invalid_date")),
])
def test_reports_are_for_working_days_that_have_come(api, today, day, expected):
    assert code(write(api, day=day)) == expected


def test_attachments_are_type_and_size_checked(api, today, setting):
    # A Windows program renamed to a PDF
    exe = upload(api, EXE, "application/pdf")
    assert code(write(api, attachments=[exe])) == (415, "unsupported_attachment")
    # A type not accepted at all
    r = api.post(f"/me/reports/{DAY}/uploads", {"content_type": "application/x-msdownload"}, user=AYU)
    assert r.status_code == 422 and r.json["error"]["code"] == "unsupported_attachment"
    # An upload id never prepared, or not an id
    assert code(write(api, attachments=["0" * 32])) == (422, "attachment_missing")
    assert code(write(api, attachments=["../x"])) == (422, "invalid_upload_id")
    # Nothing was written by the refusals
    assert api.get("/me/reports", user=AYU).json["reports"] == []


def test_a_too_large_attachment_is_refused(api, today, setting):
    setting("HADIR_WORK_ATTACHMENT_MAX_BYTES", "1024")
    p = api.post(f"/me/reports/{DAY}/uploads", {"content_type": "application/pdf"}, user=AYU)
    assert p.json["max_bytes"] == 1024
    # An upload past the limit (the POST policy refuses it on S3; checked again on the kept copy)
    api.upload(p.json["upload"], PDF + b"x" * 2048, "application/pdf")
    r = write(api, attachments=[p.json["upload_id"]])
    assert code(r) == (413, "attachment_too_large") and r.json["error"]["details"]["max_bytes"] == 1024
    assert api.get("/me/reports", user=AYU).json["reports"] == []


def test_a_report_links_only_the_employees_own_tasks(api, today):
    t = api.post("/team/tasks", {"assignees": [MADE], "title": "x", "due": "2026-03-05"}, user=KETUT)
    made_task = t.json["tasks"][0]["task_id"]
    r = write(api, task_ids=[made_task])
    assert code(r) == (422, "unknown_task") and r.json["error"]["details"]["task_ids"] == [made_task]
    assert write(api, nip=MADE, task_ids=[made_task]).json["task_ids"] == [made_task]


@pytest.mark.parametrize("body,expected", [
    ({}, "missing_fields"), ({"text": ""}, "invalid_report"), ({"text": 5}, "invalid_report"),
    ({"text": "x", "attachments": ["a"] * 6}, "invalid_report"), ({"text": "x", "task_ids": "tk-1"}, "invalid_report")])
def test_malformed_reports_are_refused(api, today, body, expected):
    r = api.put(f"/me/reports/{DAY}", body, user=AYU)
    assert code(r) == (422, expected), r.json


def test_a_supervisor_sees_and_decides_only_their_own_staffs_reports(api, today):
    assert write(api).status_code == 200
    assert write(api, nip=ANDI).status_code == 200
    # Ketut sees Ayu's, not Andi's; Budi sees Andi's, not Ayu's
    assert [r["nip"] for r in api.get(f"/team/reports?date={DAY}", user=KETUT).json["reports"]] == [AYU]
    assert [r["nip"] for r in api.get(f"/team/reports?date={DAY}", user=BUDI).json["reports"]] == [ANDI]
    # Budi cannot decide Ayu's
    assert code(decide(api, "accept", user=BUDI)) == (403, "not_your_staff")
    # An employee reaches no team route, nor decides their own
    assert api.get(f"/team/reports?date={DAY}", user=MADE).status_code == 403
    assert decide(api, "accept", user=AYU).status_code == 403
    # A forged NIP or a day without a report
    assert code(decide(api, "accept", nip="1" * 18)) == (404, "employee_not_found")
    assert code(decide(api, "accept", day="2026-03-02")) == (404, "report_not_found")
    # An admin sees both; an auditor reads one employee's with links
    assert sorted(r["nip"] for r in api.get(f"/team/reports?date={DAY}", user="admin").json["reports"]) == sorted(
        [AYU, ANDI])
    got = api.get(f"/audit/reports?nip={AYU}&from={DAY}&to={DAY}", user="auditor")
    assert [r["nip"] for r in got.json["reports"]] == [AYU]
    assert api.get(f"/audit/reports?nip={AYU}&from={DAY}&to={DAY}", user=KETUT).status_code == 403


def test_an_employee_reads_only_their_own_reports(api, today):
    write(api)
    assert api.get("/me/reports", user=MADE).json["reports"] == []
    mine = api.get("/me/reports", user=AYU).json
    assert [r["date"] for r in mine["reports"]] == [DAY] and mine["required_on"] == ["WFH", "WFA"]
    assert code(api.get("/me/reports?from=2026-01-01&to=2026-12-31", user=AYU)) == (422, "invalid_range")
