"""Folding a day from its check-ins: the status and the reasons for it (policy/day.py)."""
from chalicelib.policy.day import (ABSENT, Attempt, Day, absent_day, day_from_dict, day_to_dict, fold_day,
                                   review_checkin, reviewable,
                                   split_for_absence, view_status)

ON_TIME = {"code": "on_time", "effect": "info", "local_time": "07:20:00", "work_start": "07:30"}
LATE = {"code": "late", "effect": "info", "minutes": 15, "tier": "TL1", "percent": 0.5}
INSIDE = {"code": "inside_geofence", "effect": "info", "site_id": "kantor"}
UNCERTAIN = {"code": "location_uncertain", "effect": "flag", "site_id": "kantor", "accuracy_m": 90}


def attempt(cid="c1", kind="in", decision="accepted", *reasons, late=0, time="07:20:00", tier=None):
    return Attempt(checkin_id=cid, kind=kind, decision=decision, local_time=time, late_minutes=late,
                   tier=tier, work_mode="WFO", reasons=tuple(reasons))


def test_an_on_time_check_in_makes_the_day_present_because_of_it():
    day = fold_day(None, attempt("c1", "in", "accepted", INSIDE, ON_TIME), "kantor")
    assert (day.status, day.first_in, day.checkin_ids) == ("present", "07:20:00", ("c1",))
    assert day.reasons == ({**ON_TIME, "checkin_id": "c1"},)


def test_a_late_check_in_makes_it_late_with_the_minutes_and_tier():
    day = fold_day(None, attempt("c1", "in", "accepted", INSIDE, LATE, late=15, tier="TL1"), "kantor")
    assert (day.status, day.late_minutes, day.tier) == ("late", 15, "TL1")
    assert [r["code"] for r in day.reasons] == ["late"] and day.reasons[0]["checkin_id"] == "c1"


def test_a_flagged_check_in_makes_it_pending_review_with_the_flag_reasons_only():
    day = fold_day(None, attempt("c1", "in", "flagged", UNCERTAIN, ON_TIME), "kantor")
    assert day.status == "pending_review" and not day.attended
    assert day.reasons == ({**UNCERTAIN, "checkin_id": "c1"},)


def test_a_rejected_attempt_never_changes_the_day():
    present = fold_day(None, attempt("c1", "in", "accepted", ON_TIME), "kantor")
    assert fold_day(None, attempt("c2", decision="rejected"), "kantor") is None
    assert fold_day(present, attempt("c2", "out", "rejected"), "kantor") is present


def test_a_check_out_keeps_the_status_and_records_the_time():
    present = fold_day(None, attempt("c1", "in", "accepted", ON_TIME), "kantor")
    day = fold_day(present, attempt("c2", "out", "accepted", time="16:05:00"), "kantor")
    assert (day.status, day.last_out, day.checkin_ids, day.out_flagged) == ("present", "16:05:00",
                                                                            ("c1", "c2"), False)


def test_a_flagged_check_out_adds_its_reasons_and_marks_the_day():
    present = fold_day(None, attempt("c1", "in", "accepted", ON_TIME), "kantor")
    day = fold_day(present, attempt("c2", "out", "flagged", UNCERTAIN, time="16:05:00"), "kantor")
    assert day.status == "present" and day.out_flagged
    assert [r["checkin_id"] for r in day.reasons] == ["c1", "c2"]


def test_a_check_out_alone_is_no_record_yet_with_no_checkin():
    day = fold_day(None, attempt("c1", "out", "flagged", time="16:05:00"), "kantor")
    assert day.status == "no_record" and day.reasons[0]["code"] == "no_checkin"
    assert day.last_out == "16:05:00"


def test_a_check_out_never_turns_an_absent_day_into_anything_else():
    # Given a day absence detection marked absent
    absent = absent_day("kantor", [{"code": "no_checkin", "percent": 4.0}])
    # When a check-out alone arrives, accepted or flagged
    for decision in ("accepted", "flagged"):
        day = fold_day(absent, attempt("c1", "out", decision, UNCERTAIN, time="16:05:00"), "kantor")
        # Then the day stays absent, for the same reasons, with the check-out recorded
        assert day.status == "absent" and day.reasons == absent.reasons
        assert day.last_out == "16:05:00" and day.checkin_ids == ("c1",)


def test_absence_detection_marks_a_check_out_alone_absent_and_keeps_the_check_out():
    only_out = fold_day(None, attempt("c1", "out", "accepted", time="16:05:00"), "kantor")
    assert split_for_absence([("a", only_out)]) == (set(), set())
    marked = absent_day("kantor", [{"code": "no_checkin"}], only_out)
    assert marked.status == "absent" and marked.last_out == "16:05:00" and marked.checkin_ids == ("c1",)


def test_a_late_check_in_replaces_an_absence_mark_and_keeps_why_it_was_made():
    absent = absent_day("kantor", [{"code": "no_checkin", "percent": 4.0}])
    day = fold_day(absent, attempt("c1", "in", "accepted", LATE, late=75, time="09:45:00"), "kantor")
    assert day.status == "late" and [r["code"] for r in day.reasons] == ["late"]
    assert day.absence_replaced == ({"code": "no_checkin", "percent": 4.0},)


def test_absence_detection_counts_attended_and_pending_review_apart_from_absent():
    days = [("a", Day(status="present")), ("b", Day(status="late")), ("c", Day(status="pending_review")),
            ("d", Day(status=ABSENT)), ("e", Day(status="no_record"))]
    assert split_for_absence(days) == ({"a", "b"}, {"c"})


def test_a_day_round_trips_through_its_stored_form():
    day = fold_day(None, attempt("c1", "in", "accepted", LATE, late=15, tier="TL1"), "kantor")
    assert day_from_dict(day_to_dict(day)) == day


def test_a_view_shows_the_days_status_or_why_there_is_none():
    present = fold_day(None, attempt("c1", "in", "accepted", ON_TIME), "kantor")
    assert view_status(present, True, "working_day") == "present"
    assert view_status(present, False, "weekend") == "present"  # a record wins over the calendar
    assert view_status(None, False, "weekend") == "weekend"
    for reason in ("national_holiday", "cuti_bersama", "agency_holiday"):
        assert view_status(None, False, reason) == "holiday"
    assert view_status(None, True, "working_day") == "no_record"


# --- reviews ------------------------------------------------------------------------------------

def flagged_day(late=0):
    reasons = (UNCERTAIN, LATE if late else ON_TIME)
    return fold_day(None, attempt("c1", "in", "flagged", *reasons, late=late, tier="TL1" if late else None),
                    "kantor")


def test_an_approved_flagged_check_in_makes_the_day_present_with_the_flags_it_cleared():
    # Given a day pending review because of its flagged on-time check-in
    day = flagged_day()
    assert reviewable(day, "c1") and not reviewable(day, "c2")
    # When the supervisor approves it
    done = review_checkin(day, attempt("c1", "in", "flagged", UNCERTAIN, ON_TIME), "r1", True, "sup", "ok")
    # Then the day is present, and says it was the review that made it so
    assert (done.status, done.first_in, done.review_ids) == ("present", "07:20:00", ("r1",))
    assert [r["code"] for r in done.reasons] == ["on_time", "review_approved"]
    assert done.reasons[1] == {"code": "review_approved", "effect": "info", "flags": ["location_uncertain"],
                               "review_id": "r1", "checkin_id": "c1", "by": "sup", "comment": "ok"}
    assert not reviewable(done, "c1")  # decided once


def test_an_approved_late_check_in_is_late_with_its_minutes():
    done = review_checkin(flagged_day(late=15), attempt("c1", "in", "flagged", UNCERTAIN, LATE, late=15),
                          "r1", True, "sup", None)
    assert (done.status, done.late_minutes, done.tier) == ("late", 15, "TL1")
    assert "comment" not in done.reasons[-1]


def test_a_rejected_flagged_check_in_makes_the_day_absent_and_another_check_in_may_follow():
    # When the supervisor rejects the flagged check-in
    done = review_checkin(flagged_day(), attempt("c1", "in", "flagged", UNCERTAIN), "r1", False, "sup", "not her")
    # Then the day is absent because of the review, and the check-in no longer counts
    assert (done.status, done.first_in, done.has_checkin) == ("absent", None, False)
    assert done.reasons[0]["code"] == "review_rejected" and done.reasons[0]["comment"] == "not her"
    # And an accepted check-in later that day (window still open) makes it present again
    again = fold_day(done, attempt("c2", "in", "accepted", ON_TIME), "kantor")
    assert again.status == "present" and again.absence_replaced[0]["code"] == "review_rejected"


def test_a_rejected_check_in_on_a_day_an_approved_leave_covers_is_on_leave():
    # Given a day pending review that an approved leave then covered
    from chalicelib.policy.day import apply_request, request_reason
    day = apply_request(flagged_day(), "kantor", "rq1", "on_leave", request_reason("rq1", "on_leave", "leave", "sick"))
    assert day.status == "pending_review" and day.request_ids == ("rq1",)
    # When the supervisor rejects the check-in
    done = review_checkin(day, attempt("c1", "in", "flagged", UNCERTAIN), "r1", False, "sup", "was on leave")
    # Then the day is the leave's, saying both why
    assert done.status == "on_leave"
    assert [r["code"] for r in done.reasons] == ["review_rejected", "request_approved"]


def test_a_rejected_check_in_on_a_day_a_leave_already_covered_is_on_leave_again():
    # Given a day an approved leave covers, and then a flagged check-in on it
    from chalicelib.policy.day import apply_request, request_reason
    leave = apply_request(None, "kantor", "rq1", "on_leave", request_reason("rq1", "on_leave", "leave", "sick"))
    day = fold_day(leave, attempt("c1", "in", "flagged", UNCERTAIN, ON_TIME), "kantor")
    assert day.status == "pending_review" and reviewable(day, "c1")
    assert [r["code"] for r in day.reasons] == ["location_uncertain", "request_approved"]
    # When the supervisor rejects the check-in
    done = review_checkin(day, attempt("c1", "in", "flagged", UNCERTAIN), "r1", False, "sup", "was on leave")
    # Then the day is the leave's again, not absent, saying both why
    assert done.status == "on_leave" and done.request_ids == ("rq1",)
    assert [r["code"] for r in done.reasons] == ["review_rejected", "request_approved"]
