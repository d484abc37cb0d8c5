"""A check-in captured offline (the PWA's queue) and sent later: judged at its capture time,
always flagged delayed_capture for a supervisor, refused when it cannot be judged."""
import pytest

from tests.api.helpers import AYU, FACE, MADE, enrol, location
from tests.fakes import posed

STEPS = ["front", "left", "right"]
CAPTURED = "2026-03-03T07:50:00+08:00"  # on time in Denpasar (work starts 08:00 WITA)


def given_enrolled(api, set_now, now="2026-03-03T07:45:00+08:00"):
    clock = set_now(now)
    assert enrol(api, AYU).status_code == 201
    return clock


def offline_session(api, steps=STEPS, nip=AYU, upload=True):
    s = api.post("/checkins/uploads", {"offline_steps": steps}, user=nip)
    assert s.status_code == 201, s.json
    if upload:
        for target, frame in zip(s.json["uploads"], posed(steps, FACE, seed=40)):
            api.upload(target, frame)
    return s.json


def send(api, session_id, captured_at=CAPTURED, steps=STEPS, fix_at=None, kind="in", nip=AYU):
    body = {"session_id": session_id, "type": kind, "location": location(captured_at=fix_at or captured_at),
            "offline_captured_at": captured_at, "offline_steps": steps}
    return api.post("/checkins", body, user=nip)


def codes(r):
    return [x["code"] for x in r.json["reasons"]]


def test_an_offline_session_asks_for_exactly_the_steps_followed_and_is_marked_offline(api, set_now):
    given_enrolled(api, set_now)
    # When the app opens a session for the poses it asked offline
    s = offline_session(api, upload=False)
    # Then one upload per step, and the challenge is those steps, marked offline
    assert len(s["uploads"]) == 3
    assert [x["pose"] for x in s["challenge"]["steps"]] == STEPS and s["challenge"]["offline"] is True
    # And a session opened without a body is the server's own challenge, not offline
    online = api.post("/checkins/uploads", user=AYU).json
    assert "offline" not in online["challenge"]


def test_an_offline_check_in_is_accepted_by_its_rules_then_flagged_for_review(api, set_now):
    # Given Ayu captured her check-in at 07:50 without signal, and the app sends it at 10:30
    clock = given_enrolled(api, set_now)
    clock.advance(minutes=165)
    s = offline_session(api)
    # When it is posted
    r = send(api, s["session_id"])
    # Then it is on time at the capture (not late at 10:30), and flagged delayed_capture
    assert r.status_code == 201, r.json
    assert r.json["decision"] == "flagged"
    assert r.json["local_time"] == "07:50:00" and r.json["late_minutes"] == 0
    assert "on_time" in codes(r) and "late" not in codes(r)
    [delayed] = [x for x in r.json["reasons"] if x["code"] == "delayed_capture"]
    assert delayed["effect"] == "flag" and delayed["delay_s"] == 9600
    assert delayed["captured_at"].startswith("2026-03-02T23:50:00") and "received_at" in delayed
    # And liveness was verified against the steps she followed
    assert r.json["liveness"]["passed"] and [x["pose"] for x in r.json["liveness"]["steps"]] == STEPS
    # And the supervisor sees it in the review queue
    from tests.api.helpers import KETUT
    queue = api.get("/team/reviews", user=KETUT)
    assert queue.status_code == 200, queue.json
    assert any("delayed_capture" in str(item) for item in queue.json["items"]), queue.json


def test_the_day_and_lateness_are_those_of_the_capture(api, set_now):
    # Given a check-out captured on Monday at 16:40 WITA, sent on Tuesday at 01:00
    clock = set_now("2026-03-02T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    clock.advance(minutes=15)
    first = offline_session(api)
    r = send(api, first["session_id"], captured_at="2026-03-02T07:55:00+08:00")
    assert r.status_code == 201, r.json
    clock.advance(hours=17)  # Tuesday 01:00 WITA
    s = offline_session(api)
    # When the Monday check-out is sent on Tuesday
    r = send(api, s["session_id"], captured_at="2026-03-02T16:40:00+08:00", kind="out")
    # Then it counts for Monday, at 16:40 (no early leave), and is flagged as delayed
    assert r.status_code == 201, r.json
    assert r.json["local_date"] == "2026-03-02" and r.json["local_time"] == "16:40:00"
    assert r.json["early_leave_minutes"] == 0 and "delayed_capture" in codes(r)
    monday = api.get("/me/attendance?from=2026-03-02&to=2026-03-02", user=AYU).json["days"][0]
    assert [c["kind"] for c in monday["checkins"]] == ["in", "out"]


def test_a_capture_sent_late_in_the_morning_is_late_by_its_capture_time(api, set_now):
    clock = given_enrolled(api, set_now)
    clock.advance(hours=3)
    s = offline_session(api)
    r = send(api, s["session_id"], captured_at="2026-03-03T08:20:00+08:00")
    assert r.status_code == 201, r.json
    assert r.json["late_minutes"] == 20 and "late" in codes(r)


def test_a_capture_older_than_the_limit_is_refused_and_nothing_is_written(api, set_now):
    clock = given_enrolled(api, set_now)
    clock.advance(hours=13)
    s = offline_session(api)
    r = send(api, s["session_id"])
    assert r.status_code == 422 and r.json["error"]["code"] == "offline_too_old", r.json
    assert r.json["error"]["details"]["max_age_h"] == 12
    days = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=AYU).json["days"]
    assert not days or not days[0]["checkins"]


def test_a_capture_time_in_the_future_is_refused(api, set_now):
    given_enrolled(api, set_now)
    s = offline_session(api)
    r = send(api, s["session_id"], captured_at="2026-03-03T07:50:00+08:00")  # 5 min ahead of the clock
    assert r.status_code == 422 and r.json["error"]["code"] == "offline_in_future", r.json


@pytest.mark.parametrize("steps", [["left", "front", "right"], ["front", "left", "sideways"],
                                   ["front"], ["front", "left", "right", "up"], []])
def test_steps_that_are_not_front_then_the_allowed_turns_are_refused(api, set_now, steps):
    given_enrolled(api, set_now)
    r = api.post("/checkins/uploads", {"offline_steps": steps}, user=AYU)
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_offline_steps", r.json


def test_an_upload_count_or_steps_other_than_the_sessions_are_refused(api, set_now):
    clock = given_enrolled(api, set_now)
    clock.advance(hours=1)
    s = offline_session(api)
    # When the check-in names other steps than the session was opened for
    r = send(api, s["session_id"], steps=["front", "right", "left"])
    assert r.status_code == 422 and r.json["error"]["code"] == "offline_session_mismatch", r.json
    # And an offline capture posted on a normal session (the server's challenge, its count)
    online = api.post("/checkins/uploads", user=AYU).json
    r = send(api, online["session_id"])
    assert r.status_code == 422 and r.json["error"]["code"] == "offline_session_mismatch", r.json
    # And an offline session used as if it were a check-in made now
    r = api.post("/checkins", {"session_id": s["session_id"], "type": "in", "location": location()}, user=AYU)
    assert r.status_code == 422 and r.json["error"]["code"] == "offline_session_mismatch", r.json
    # And the session is still unused: the right check-in goes through
    assert send(api, s["session_id"]).status_code == 201


def test_the_fix_must_be_taken_at_the_capture(api, set_now):
    clock = given_enrolled(api, set_now)
    clock.advance(hours=1)
    s = offline_session(api)
    r = send(api, s["session_id"], fix_at="2026-03-03T08:40:00+08:00")  # taken once back online
    assert r.status_code == 422 and r.json["error"]["code"] == "offline_position_mismatch", r.json


@pytest.mark.parametrize("extra, code", [
    ({"offline_captured_at": "2026-03-03T07:50:00"}, "invalid_offline_captured_at"),  # no offset
    ({"offline_captured_at": "yesterday"}, "invalid_offline_captured_at"),
    ({"offline_captured_at": CAPTURED}, "offline_fields_incomplete"),
    ({"offline_steps": STEPS}, "offline_fields_incomplete"),
    ({"offline_captured_at": CAPTURED, "offline_steps": "front"}, "invalid_offline_steps"),
])
def test_malformed_offline_fields_are_refused_with_their_code(api, set_now, extra, code):
    clock = given_enrolled(api, set_now)
    clock.advance(hours=1)
    s = offline_session(api)
    r = api.post("/checkins", {"session_id": s["session_id"], "type": "in",
                               "location": location(captured_at=CAPTURED), **extra}, user=AYU)
    assert r.status_code == 422 and r.json["error"]["code"] == code, r.json


def test_another_employees_offline_session_is_not_found(api, set_now):
    clock = given_enrolled(api, set_now)
    clock.advance(hours=1)
    s = offline_session(api)
    r = send(api, s["session_id"], nip=MADE)
    assert r.status_code in (404, 409), r.json
    assert r.json["error"]["code"] in ("session_not_found", "not_enrolled"), r.json


def test_the_uploads_body_is_optional_but_checked_when_sent(api, set_now):
    given_enrolled(api, set_now)
    r = api.post("/checkins/uploads", {"offline_steps": "front"}, user=AYU)
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_offline_steps", r.json
    r = api.post("/checkins/uploads", {"offline_steps": ["front", "left", "left", "left", "left", "left"]},
                 user=AYU)
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_offline_steps", r.json
    # And an unknown field alone is a session with the server's challenge
    r = api.post("/checkins/uploads", {"something": 1}, user=AYU)
    assert r.status_code == 201 and "offline" not in r.json["challenge"], r.json


def test_without_required_liveness_a_front_photo_alone_is_enough_and_still_flagged(api, set_now, setting):
    setting("HADIR_LIVENESS_REQUIRED", "false")
    clock = given_enrolled(api, set_now)
    clock.advance(hours=1)
    s = offline_session(api, steps=["front"])
    assert len(s["uploads"]) == 1
    r = send(api, s["session_id"], steps=["front"])
    assert r.status_code == 201, r.json
    assert r.json["decision"] == "flagged" and "delayed_capture" in codes(r)


def test_the_age_limit_is_a_setting(api, set_now, setting):
    setting("HADIR_OFFLINE_MAX_AGE_H", "1")
    clock = given_enrolled(api, set_now)
    clock.advance(hours=2)
    r = send(api, offline_session(api)["session_id"])
    assert r.status_code == 422 and r.json["error"]["code"] == "offline_too_old"
    assert r.json["error"]["details"]["max_age_h"] == 1
