"""The phone is part of the evidence: the X-Device-Id bound at enrolment; another phone is flagged
new_device until the employee's own supervisor (or an admin) allows it; a phone several employees
use on one day is flagged shared_device."""
from tests.api.helpers import AYU, BUDI, FACE, KETUT, MADE, checkin_session, location, steps_of
from tests.fakes import photo, posed

AYU_PHONE, NEW_PHONE = "ayu-phone-7f3a9c", "ayu-phone-new-11b2"


def enrol_on(api, nip, device, colour=FACE):
    s = api.post("/me/enrollment/uploads", user=nip).json
    for target, frame in zip(s["uploads"], posed(steps_of(s), colour)):
        api.upload(target, frame)
    r = api.post("/me/enrollment", {"session_id": s["session_id"], "consent": True}, user=nip,
                 headers={"X-Device-Id": device})
    assert r.status_code == 201, r.json


def check_in_on(api, nip, device, colour=FACE, kind="in"):
    sid = checkin_session(api, nip, photo(colour, seed=9), colour=colour)
    headers = {"X-Device-Id": device} if device else None
    return api.post("/checkins", {"session_id": sid, "type": kind, "location": location()}, user=nip,
                    headers=headers)


def codes(r):
    return [x["code"] for x in r.json["reasons"]]


def test_the_enrolled_phone_checks_in_without_a_device_reason(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    enrol_on(api, AYU, AYU_PHONE)
    r = check_in_on(api, AYU, AYU_PHONE)
    assert r.json["decision"] == "accepted" and "new_device" not in codes(r)


def test_another_phone_or_none_is_flagged_as_a_new_device(api, set_now):
    clock = set_now("2026-03-03T07:45:00+08:00")
    enrol_on(api, AYU, AYU_PHONE)
    r = check_in_on(api, AYU, NEW_PHONE)
    assert r.json["decision"] == "flagged" and "new_device" in codes(r)
    clock.advance(hours=8)
    out = check_in_on(api, AYU, None, kind="out")
    assert "new_device" in codes(out)


def test_her_supervisor_allows_the_new_phone_and_it_is_audited(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    enrol_on(api, AYU, AYU_PHONE)
    # When Ketut, her supervisor, allows the new phone
    r = api.put(f"/admin/employees/{AYU}/device", {"device_id": NEW_PHONE, "reason": "phone replaced"},
                user=KETUT)
    assert r.status_code == 200 and r.json == {"nip": AYU, "device_id": NEW_PHONE, "bound_by": KETUT}
    # Then a check-in from it is no longer flagged, and the change is on her audit trail
    assert check_in_on(api, AYU, NEW_PHONE).json["decision"] == "accepted"
    from chalicelib.wiring import get_services
    [bound] = [a for a in get_services().records.audit_trail(AYU) if a.action == "device_bound"]
    assert (bound.actor, bound.details["previous"], bound.details["reason"]) == (KETUT, AYU_PHONE,
                                                                                  "phone replaced")


def test_only_her_own_supervisor_or_an_admin_may_allow_a_phone(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    body = {"device_id": NEW_PHONE}
    assert api.put(f"/admin/employees/{AYU}/device", body, user=BUDI).json["error"]["code"] == "not_your_staff"
    r = api.put(f"/admin/employees/{AYU}/device", body, user=AYU)
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert api.put(f"/admin/employees/{AYU}/device", body, user="admin").status_code == 200


def test_a_malformed_device_id_is_refused(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    r = api.put(f"/admin/employees/{AYU}/device", {"device_id": "x"}, user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_device_id"
    r = check_in_on(api, AYU, "not a device id!")
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_device_id"


def test_one_phone_two_employees_in_a_day_is_a_shared_device(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    enrol_on(api, AYU, AYU_PHONE)
    enrol_on(api, MADE, "made-phone-5e6f7a", colour=(90, 200, 60))
    assert check_in_on(api, AYU, AYU_PHONE).json["decision"] == "accepted"
    # When Made checks in on Ayu's phone (with his own face) the same morning
    r = check_in_on(api, MADE, AYU_PHONE, colour=(90, 200, 60))
    # Then it is flagged: not his phone, and a phone two employees used today
    shared = next(x for x in r.json["reasons"] if x["code"] == "shared_device")
    assert r.json["decision"] == "flagged" and "new_device" in codes(r) and shared["employees"] == 2
