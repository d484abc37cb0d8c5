"""The review queue: a flagged check-in waits for its employee's own supervisor, who sees the
evidence and approves or rejects it; a new enrolment waits for approval when the agency asks for it."""
import pytest

from chalicelib.common.settings import get_settings
from tests.api.helpers import AYU, BUDI, DENPASAR, KETUT, MADE, check_in, checkin_session, enrol, location
from tests.conftest import _boto_client

EDGE = location(lat=DENPASAR["lat"] + 0.0004, accuracy_m=60)  # inside, but the radius crosses the fence


def given_flagged(api, set_now, nip=AYU):
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, nip).status_code == 201
    r = check_in(api, nip, checkin_session(api, nip), loc=EDGE)
    assert r.json["decision"] == "flagged", r.json
    return r.json["checkin_id"]


WINDOW = "?from=2026-03-01&to=2026-03-04"


def queue(api, user, query=WINDOW):
    r = api.get("/team/reviews" + query, user=user)
    assert r.status_code == 200, r.json
    return r.json["items"]


def evidence_exists(key: str) -> bool:
    try:
        _boto_client("s3").head_object(Bucket=get_settings().buckets["uploads"], Key=key)
        return True
    except Exception:  # noqa: BLE001 (botocore's 404)
        return False


def day_of(api, nip):
    return api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=nip).json["days"][0]


def test_a_flagged_check_in_waits_in_its_supervisors_queue_with_its_evidence(api, set_now):
    # Given Ayu's check-in flagged (her fix's accuracy radius crosses the fence)
    checkin_id = given_flagged(api, set_now)
    # When her supervisor opens the queue
    [item] = queue(api, KETUT)
    # Then it names the check-in and carries every piece of evidence
    assert item["review_id"] == f"c.{AYU}.2026-03-03.{checkin_id}" and item["kind"] == "checkin"
    c = item["checkin"]
    assert "location_uncertain" in [r["code"] for r in c["reasons"]]
    assert c["face"]["score"] is not None and c["face"]["threshold"] is not None
    assert c["geo"]["distance_m"] > 0 and c["geo"]["accuracy_m"] == 60
    assert c["position"]["lat"] == EDGE["lat"]
    assert c["fence"]["radius_m"] > 0  # the office's fence, for the map
    # And the selfie, kept encrypted under evidence/, as a short-lived link
    assert f"evidence/checkin/{AYU}/" in c["selfie_url"] and "X-Amz-Expires=300" in c["selfie_url"]
    # And the day is pending review, not present and not absent
    assert day_of(api, AYU)["status"] == "pending_review"


def test_another_units_supervisor_sees_nothing_and_cannot_decide(api, set_now):
    given_flagged(api, set_now)
    [item] = queue(api, KETUT)
    # Budi supervises Jakarta: Ayu is not his
    assert queue(api, BUDI) == []
    r = api.post(f"/team/reviews/{item['review_id']}", {"decision": "approve"}, user=BUDI)
    assert r.status_code == 403 and r.json["error"]["code"] == "not_your_staff"
    # An employee may not even read the queue
    assert api.get("/team/reviews", user=MADE).status_code == 403
    assert api.post(f"/team/reviews/{item['review_id']}", {"decision": "approve"}, user=MADE).status_code == 403
    assert day_of(api, AYU)["status"] == "pending_review"


def test_an_admin_sees_a_units_queue_and_must_name_the_unit(api, set_now):
    given_flagged(api, set_now)
    # When the admin asks for Ayu's unit, then Ayu's check-in waits there; another unit's is empty
    assert [i["nip"] for i in queue(api, "admin", WINDOW + "&unit=Bagian Umum Denpasar")] == [AYU]
    assert queue(api, "admin", WINDOW + "&unit=Perwakilan Jakarta") == []
    assert queue(api, "admin", WINDOW + "&unit=No such unit") == []
    # And without a unit the queue is refused (the agency's staff is never one response)
    r = api.get("/team/reviews" + WINDOW, user="admin")
    assert (r.status_code, r.json["error"]["code"]) == (422, "unit_required")
    r = api.get("/team/reviews" + WINDOW + "&unit=" + "x" * 201, user="admin")
    assert (r.status_code, r.json["error"]["code"]) == (422, "invalid_unit")
    # But a supervisor's unit is ignored: still only their own staff
    assert [i["nip"] for i in queue(api, KETUT, WINDOW + "&unit=Perwakilan Jakarta")] == [AYU]
    assert queue(api, BUDI, WINDOW + "&unit=Bagian Umum Denpasar") == []


def test_approving_makes_the_day_present_and_deletes_the_selfie(api, set_now):
    checkin_id = given_flagged(api, set_now)
    [item] = queue(api, KETUT)
    key = f"evidence/checkin/{AYU}/" + item["checkin"]["selfie_url"].split(f"evidence/checkin/{AYU}/")[1].split("?")[0]
    assert evidence_exists(key)
    # When Ketut approves it
    r = api.post(f"/team/reviews/{item['review_id']}", {"decision": "approve", "comment": "GPS weak"}, user=KETUT)
    # Then the day is present, because of the review, and the queue is empty
    assert r.status_code == 200, r.json
    assert (r.json["decision"], r.json["day_status"], r.json["reviewer"]) == ("approved", "present", KETUT)
    approved = next(x for x in r.json["reasons"] if x["code"] == "review_approved")
    assert approved["checkin_id"] == checkin_id and approved["flags"] == ["location_uncertain"]
    day = day_of(api, AYU)
    assert day["status"] == "present" and "review_approved" in [x["code"] for x in day["reasons"]]
    assert queue(api, KETUT) == []
    # And the selfie is gone
    assert not evidence_exists(key)
    # And Ayu is told, in the app
    [told] = api.get("/me/notifications", user=AYU).json["items"]
    assert (told["topic"], told["ref"], told["details"]["day_status"]) == ("review_decided", item["review_id"],
                                                                           "present")
    assert api.get("/me/notifications?limit=0", user=AYU).json["error"]["code"] == "invalid_limit"
    assert api.get("/me/notifications", user=KETUT).json["items"] == []
    # And deciding again is refused
    again = api.post(f"/team/reviews/{item['review_id']}", {"decision": "reject", "comment": "x"}, user=KETUT)
    assert again.status_code == 409 and again.json["error"]["code"] == "review_not_pending"


def test_rejecting_needs_a_reason_and_makes_the_day_absent(api, set_now):
    given_flagged(api, set_now)
    [item] = queue(api, KETUT)
    path = f"/team/reviews/{item['review_id']}"
    r = api.post(path, {"decision": "reject"}, user=KETUT)
    assert r.status_code == 422 and r.json["error"]["code"] == "comment_required"
    assert day_of(api, AYU)["status"] == "pending_review"  # nothing written
    r = api.post(path, {"decision": "reject", "comment": "Not at the office per CCTV"}, user=KETUT)
    assert r.status_code == 200 and r.json["day_status"] == "absent"
    day = day_of(api, AYU)
    assert day["status"] == "absent" and day["reasons"][0]["code"] == "review_rejected"


@pytest.mark.parametrize("review_id", [
    "nonsense", f"c.{AYU}.2026-03-03.{'0' * 32}", f"e.{AYU}.{'a' * 32}", f"c.{AYU}.2026-03-03.{'0' * 31}Z",
    f"c.{AYU}.2026-3-3.{'0' * 32}"])
def test_a_forged_or_unknown_review_id_is_review_not_found(api, set_now, review_id):
    given_flagged(api, set_now)
    r = api.post(f"/team/reviews/{review_id}", {"decision": "approve"}, user=KETUT)
    assert (r.status_code, r.json["error"]["code"]) == (404, "review_not_found"), r.json
    assert day_of(api, AYU)["status"] == "pending_review"


def test_nobody_reviews_their_own_check_in(api, set_now):
    # Given a review id naming Budi himself (a supervisor, and an employee like any other)
    # When he decides it; then refused before anything is looked up
    r = api.post(f"/team/reviews/c.{BUDI}.2026-03-03.{'a' * 32}", {"decision": "approve"}, user=BUDI)
    assert r.status_code == 403 and r.json["error"]["code"] == "own_review"


@pytest.mark.parametrize("body, code", [
    ({"decision": "maybe"}, "invalid_decision"), ({}, "missing_fields"),
    ({"decision": "reject", "comment": "x" * 501}, "invalid_comment")])
def test_a_malformed_decision_is_refused_with_its_code(api, set_now, body, code):
    given_flagged(api, set_now)
    [item] = queue(api, KETUT)
    r = api.post(f"/team/reviews/{item['review_id']}", body, user=KETUT)
    assert r.status_code == 422 and r.json["error"]["code"] == code, r.json


def test_a_reversed_or_too_long_range_is_invalid_range(api):
    assert api.get("/team/reviews?from=2026-03-05&to=2026-03-01", user=KETUT).json["error"]["code"] == "invalid_range"
    assert api.get("/team/reviews?from=2026-01-01&to=2026-03-31", user=KETUT).json["error"]["code"] == "invalid_range"
    assert api.get("/team/reviews?from=yesterday", user=KETUT).json["error"]["code"] == "invalid_date"


# --- enrolment approval ----------------------------------------------------------------------------

@pytest.fixture
def approval(setting):
    setting("HADIR_ENROLMENT_APPROVAL", "true")


def test_a_new_enrolment_waits_for_approval_and_its_check_ins_are_flagged(api, set_now, approval):
    set_now("2026-03-03T07:45:00+08:00")
    # When Ayu enrols
    r = enrol(api, AYU)
    # Then she is enrolled, pending approval, and her check-in is flagged for it
    assert r.status_code == 201 and r.json["status"] == "pending_approval"
    assert api.get("/me", user=AYU).json["enrollment"]["status"] == "pending_approval"
    c = check_in(api, AYU, checkin_session(api, AYU))
    assert c.json["decision"] == "flagged" and "enrolment_pending" in [x["code"] for x in c.json["reasons"]]
    # And her supervisor sees the enrolment (three photo links) and the check-in
    items = {i["kind"]: i for i in queue(api, KETUT)}
    assert set(items) == {"enrolment", "checkin"}
    enrolment = items["enrolment"]
    assert enrolment["review_id"].startswith(f"e.{AYU}.") and len(enrolment["photos"]) == 3
    # When he approves the enrolment, then the check-in
    assert api.post(f"/team/reviews/{enrolment['review_id']}", {"decision": "approve"},
                    user=KETUT).json["decision"] == "approved"
    assert api.get("/me", user=AYU).json["enrollment"]["status"] == "enrolled"
    assert api.post(f"/team/reviews/{items['checkin']['review_id']}", {"decision": "approve"},
                    user=KETUT).json["day_status"] == "present"
    # Then the next check-in carries no enrolment flag
    out = check_in(api, AYU, checkin_session(api, AYU), kind="out",
                   loc=location(captured_at="2026-03-03T07:44:55+08:00"))
    assert "enrolment_pending" not in [x["code"] for x in out.json["reasons"]]


def test_a_rejected_enrolment_is_deleted_so_the_employee_enrols_again(api, set_now, approval):
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).json["status"] == "pending_approval"
    [item] = queue(api, KETUT)
    photos = [f"evidence/enrolment/{AYU}/{item['review_id'].split('.')[2]}/{i}" for i in range(3)]
    assert all(evidence_exists(k) for k in photos)
    r = api.post(f"/team/reviews/{item['review_id']}", {"decision": "reject", "comment": "Not her face"},
                 user=KETUT)
    assert r.status_code == 200 and r.json["decision"] == "rejected"
    assert api.get("/me", user=AYU).json["enrollment"]["status"] == "not_enrolled"
    assert not any(evidence_exists(k) for k in photos)
    assert api.post("/me/enrollment/uploads", user=AYU).status_code == 201


def test_a_rejected_check_in_on_a_day_dinas_luar_covers_is_official_travel(api, set_now):
    from tests.api.test_requests import BADUNG, decide, leave, submit
    # Given Ayu's dinas luar for today approved this morning, before any check-in
    set_now("2026-03-03T07:00:00+08:00")
    assert enrol(api, AYU).status_code == 201
    out = submit(api, body=leave(type_="official_travel", subtype=None, start="2026-03-03", end="2026-03-03",
                                 destination=BADUNG, destination_name="Kantor Bupati Badung"))
    assert decide(api, out["request_id"]).status_code == 200
    # And a flagged check-in at the office's edge
    set_now("2026-03-03T07:45:00+08:00")
    assert check_in(api, AYU, checkin_session(api, AYU), loc=EDGE).json["decision"] == "flagged"
    [item] = queue(api, KETUT)
    # When Ketut rejects the check-in
    r = api.post(f"/team/reviews/{item['review_id']}", {"decision": "reject", "comment": "Not in Denpasar"},
                 user=KETUT)
    # Then the day is the dinas luar's, not absent, and says both why
    assert r.json["day_status"] == "official_travel", r.json
    day = day_of(api, AYU)
    assert day["status"] == "official_travel" and day["request_ids"] == [out["request_id"]]
