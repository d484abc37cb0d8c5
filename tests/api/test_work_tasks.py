"""Tasks (issue 15) through the API: a supervisor assigns them to their own staff, the owner hands
them in, the supervisor accepts or returns them with a comment; every change audited, every
decision told, and nobody acts outside their own staff."""
import pytest
import requests as http

from tests.api.helpers import ANDI, AYU, BUDI, KETUT, MADE

NOW = "2026-03-03T07:00:00+08:00"  # a Tuesday in Denpasar (WITA)
PDF = b"%PDF-1.4\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 40 + b"%%EOF\n"


@pytest.fixture
def today(api, set_now):
    return set_now(NOW)


def assign(api, assignees=(AYU,), user=KETUT, **extra):
    body = {"assignees": list(assignees), "title": "Rekap surat masuk", "description": "Minggu ini",
            "due": "2026-03-05", **extra}
    return api.post("/team/tasks", body, user=user)


def one_task(api, nip=AYU):
    r = assign(api, (nip,))
    assert r.status_code == 201, r.json
    return r.json["tasks"][0]["task_id"]


def audit_actions(nip):
    from chalicelib.wiring import get_services
    return [e.action for e in get_services().records.audit_trail(nip)]


def test_a_supervisor_assigns_one_task_to_each_of_two_staff_and_each_is_told(api, today):
    # When Ketut assigns a task to Ayu and Made
    r = assign(api, (AYU, MADE))
    # Then each gets their own open task
    assert r.status_code == 201, r.json
    tasks = r.json["tasks"]
    assert sorted(t["nip"] for t in tasks) == sorted([AYU, MADE])
    assert {t["status"] for t in tasks} == {"open"} and len({t["task_id"] for t in tasks}) == 2
    # And each sees it in their own list (and only their own)
    [mine] = api.get("/me/tasks", user=AYU).json["tasks"]
    assert mine["nip"] == AYU and mine["events"][0]["action"] == "assigned"
    # And is told, and the assignment is audited
    told = api.get("/me/notifications", user=MADE).json["items"]
    assert any(n["topic"] == "task_assigned" for n in told)
    assert "task_assigned" in audit_actions(AYU)
    # And the supervisor's team view lists both
    assert len(api.get("/team/tasks", user=KETUT).json["tasks"]) == 2


def test_a_task_goes_open_submitted_returned_submitted_accepted(api, today):
    task_id = one_task(api)
    # When Ayu hands it in
    r = api.post(f"/me/tasks/{task_id}/submit", {"note": "Sudah direkap 40 surat"}, user=AYU)
    assert (r.status_code, r.json["status"]) == (200, "submitted"), r.json
    # And Ketut returns it without a comment: refused
    r = api.post(f"/team/tasks/{AYU}/{task_id}", {"decision": "return"}, user=KETUT)
    assert (r.status_code, r.json["error"]["code"]) == (422, "comment_required")
    # When he returns it with one
    r = api.post(f"/team/tasks/{AYU}/{task_id}", {"decision": "return", "comment": "Lengkapi nomor agenda"},
                 user=KETUT)
    assert (r.status_code, r.json["status"]) == (200, "returned"), r.json
    assert r.json["events"][-1]["comment"] == "Lengkapi nomor agenda"
    # Then accepting a returned task is a stale transition
    r = api.post(f"/team/tasks/{AYU}/{task_id}", {"decision": "accept"}, user=KETUT)
    assert (r.status_code, r.json["error"]["code"]) == (409, "task_transition_invalid")
    # When she hands it in again and he accepts it
    assert api.post(f"/me/tasks/{task_id}/submit", {}, user=AYU).status_code == 200
    r = api.post(f"/team/tasks/{AYU}/{task_id}", {"decision": "accept"}, user=KETUT)
    assert (r.status_code, r.json["status"]) == (200, "accepted")
    # Then it cannot be handed in again, and every change is audited, every decision told
    r = api.post(f"/me/tasks/{task_id}/submit", {}, user=AYU)
    assert (r.status_code, r.json["error"]["code"]) == (409, "task_transition_invalid")
    assert [a for a in audit_actions(AYU) if a.startswith("task_")] == [
        "task_assigned", "task_submitted", "task_returned", "task_submitted", "task_accepted"]
    topics = [n["topic"] for n in api.get("/me/notifications", user=AYU).json["items"]]
    assert topics.count("task_decided") == 2


def test_an_open_task_is_not_decided(api, today):
    task_id = one_task(api)
    r = api.post(f"/team/tasks/{AYU}/{task_id}", {"decision": "accept"}, user=KETUT)
    assert (r.status_code, r.json["error"]["code"], r.json["error"]["details"]["status"]) == (409, "task_transition_invalid", "open")


def test_a_supervisor_never_assigns_to_nor_sees_nor_decides_another_units_staff(api, today):
    # When Budi (Jakarta) assigns a task to Ayu (Ketut's staff): forbidden, nothing written
    r = assign(api, (ANDI, AYU), user=BUDI)
    assert (r.status_code, r.json["error"]["code"]) == (403, "not_your_staff")
    assert api.get("/me/tasks", user=ANDI).json["tasks"] == []
    task_id = one_task(api)
    # Then Budi sees none of Ketut's tasks and cannot decide one
    assert api.get("/team/tasks", user=BUDI).json["tasks"] == []
    api.post(f"/me/tasks/{task_id}/submit", {}, user=AYU)
    r = api.post(f"/team/tasks/{AYU}/{task_id}", {"decision": "accept"}, user=BUDI)
    assert (r.status_code, r.json["error"]["code"]) == (403, "not_your_staff")
    # And an admin sees every task
    assert [t["task_id"] for t in api.get("/team/tasks", user="admin").json["tasks"]] == [task_id]


def test_an_employee_never_decides_nor_hands_in_anothers_task(api, today):
    task_id = one_task(api)
    # When Made hands in Ayu's task by its id: as if there were none
    r = api.post(f"/me/tasks/{task_id}/submit", {}, user=MADE)
    assert (r.status_code, r.json["error"]["code"]) == (404, "task_not_found")
    # And an employee cannot reach the supervisor's routes
    assert api.post(f"/team/tasks/{AYU}/{task_id}", {"decision": "accept"}, user=MADE).status_code == 403
    assert assign(api, (MADE,), user=AYU).status_code == 403


@pytest.mark.parametrize("body,code", [
    ({"assignees": [], "title": "x", "due": "2026-03-05"}, "invalid_task"),
    ({"assignees": [AYU], "title": "", "due": "2026-03-05"}, "invalid_task"),
    ({"assignees": [AYU], "title": "x", "due": "2026-02-30"}, "invalid_task"),
    ({"assignees": [AYU], "title": "x", "due": "2026-03-02"}, "invalid_task"),  # in the past
    ({"assignees": [AYU], "title": "x", "due": "2026-03-05", "upload_id": "../../etc"}, "invalid_upload_id"),
])
def test_malformed_tasks_are_refused_with_a_code(api, today, body, code):
    r = api.post("/team/tasks", body, user=KETUT)
    assert (r.status_code, r.json["error"]["code"]) == (422, code), r.json


def test_forged_ids_are_not_found(api, today):
    one_task(api)
    for nip, task_id, code in ((AYU, "tk-" + "0" * 20, "task_not_found"), (AYU, "tk-NOT-AN-ID", "task_not_found"),
                               ("1" * 18, "tk-" + "0" * 20, "employee_not_found")):
        r = api.post(f"/team/tasks/{nip}/{task_id}", {"decision": "accept"}, user=KETUT)
        assert (r.status_code, r.json["error"]["code"]) == (404, code)


def test_a_task_carries_its_attachment_to_each_assignee(api, today):
    # Given Ketut uploads a PDF for a task
    p = api.post("/team/tasks/uploads", {"content_type": "application/pdf"}, user=KETUT)
    assert p.status_code == 201, p.json
    assert api.upload(p.json["upload"], PDF, "application/pdf") in (200, 201, 204)
    # When he assigns it to Ayu and Made with the upload
    r = assign(api, (AYU, MADE), upload_id=p.json["upload_id"])
    assert r.status_code == 201, r.json
    # Then each task holds its own copy, readable through a short-lived link
    for t in r.json["tasks"]:
        assert t["attachment"]["content_type"] == "application/pdf"
        assert http.get(t["attachment"]["url"], timeout=5).content == PDF
    [mine] = api.get("/me/tasks", user=AYU).json["tasks"]
    assert http.get(mine["attachment"]["url"], timeout=5).content == PDF
