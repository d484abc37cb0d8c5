"""Event days: an admin moves an office's check-in point for one date (apel pagi, the 17 August
ceremony at the square); that day the office's staff check in at the event, not at the office
(unless ``also_office``), and every decision names the event."""
import pytest

from tests.api.helpers import AYU, KETUT, check_in, checkin_session, enrol, location

SQUARE = {"lat": -8.6566, "lon": 115.2166}  # Lapangan Puputan Badung, about 1.6 km from the office
AT_SQUARE = {"lat": -8.65662, "lon": 115.21662}
EVENTS = "/admin/events"
DAY = "2026-03-03"  # a Tuesday


def event(date=DAY, office_id="kantor-denpasar", name="Apel Pagi Gabungan", radius_m=150, **extra):
    return {"office_id": office_id, "date": date, "name": name,
            "geofence": {"type": "circle", "lat": SQUARE["lat"], "lon": SQUARE["lon"], "radius_m": radius_m},
            **extra}


def given_event(api, set_now, **extra):
    set_now("2026-03-02T12:00:00+08:00")
    r = api.post(EVENTS, event(**extra), user="admin")
    assert r.status_code == 201, r.json
    assert enrol(api, AYU).status_code == 201
    return r.json


def codes(r):
    return [x["code"] for x in r.json["reasons"]]


def event_reason(r):
    return next(x for x in r.json["reasons"] if x["code"] == "event_day")


def test_admin_sets_lists_and_the_change_is_audited(api, set_now):
    # When
    out = given_event(api, set_now)
    # Then
    assert out["name"] == "Apel Pagi Gabungan" and out["also_office"] is False and out["created_by"] == "admin"
    listed = api.get(EVENTS, user="admin").json
    assert listed["version"] == 1
    assert [(e["office_id"], e["date"]) for e in listed["events"]] == [("kantor-denpasar", DAY)]
    assert api.get(f"{EVENTS}?office_id=kantor-jakarta", user="admin").json["events"] == []
    log = api.get("/audit/log?subject=config%23events", user="auditor").json["entries"]
    assert [(e["action"], e["details"]["action"], e["details"]["office_id"], e["details"]["date"])
            for e in log] == [("config_changed", "event_set", "kantor-denpasar", DAY)]


def test_on_the_day_the_checkin_is_judged_against_the_event(api, set_now):
    given_event(api, set_now)
    set_now("2026-03-03T07:45:00+08:00")
    # When Ayu checks in at the square
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**AT_SQUARE, captured_at="2026-03-03T07:44:50+08:00"))
    # Then accepted, at the office's work mode, and the decision names the event
    assert r.status_code == 201, r.json
    assert r.json["decision"] == "accepted" and r.json["work_mode"] == "WFO"
    assert r.json["office_id"] == "kantor-denpasar" and r.json["geo"]["site_id"] == f"event:kantor-denpasar:{DAY}"
    assert event_reason(r)["event"] == "Apel Pagi Gabungan" and "inside_geofence" in codes(r)


def test_on_the_day_the_office_fence_is_not_accepted(api, set_now):
    given_event(api, set_now)
    set_now("2026-03-03T07:45:00+08:00")
    # When Ayu checks in at the office as usual
    r = check_in(api, AYU, checkin_session(api, AYU))
    # Then rejected: outside the event's fence, and the reasons say why
    assert r.status_code == 422, r.json
    assert "outside_geofence" in codes(r) and event_reason(r)["site_id"] == f"event:kantor-denpasar:{DAY}"
    assert r.json["geo"]["site_id"] == f"event:kantor-denpasar:{DAY}"


def test_also_office_accepts_both(api, set_now):
    given_event(api, set_now, also_office=True)
    set_now("2026-03-03T07:45:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU))
    assert r.status_code == 201 and r.json["geo"]["site_id"] == "kantor-denpasar", r.json
    assert event_reason(r)["also_office"] is True


def test_the_day_after_the_office_is_back_and_the_square_is_not(api, set_now):
    given_event(api, set_now)
    set_now("2026-03-04T07:45:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**AT_SQUARE, captured_at="2026-03-04T07:44:50+08:00"))
    assert r.status_code == 422 and "event_day" not in codes(r)
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(captured_at="2026-03-04T07:44:55+08:00"))
    assert r.status_code == 201 and r.json["geo"]["site_id"] == "kantor-denpasar"


def test_the_office_local_date_decides(api, set_now):
    # Given the event on 3 March in Denpasar (WITA); 2 March 16:30 UTC is already 3 March 00:30 WITA
    given_event(api, set_now, checkin_window="00:00-08:00")
    set_now("2026-03-02T16:30:00+00:00")
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**AT_SQUARE, captured_at="2026-03-02T16:29:50+00:00"))
    assert r.status_code == 201 and r.json["local_date"] == DAY and "event_day" in codes(r), r.json


def test_the_event_window_replaces_the_office_window_that_day(api, set_now):
    # Given the office's window opens at 06:00, the apel's at 05:30
    given_event(api, set_now, checkin_window="05:30-07:00")
    set_now("2026-03-03T05:45:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**AT_SQUARE, captured_at="2026-03-03T05:44:50+08:00"))
    assert r.status_code == 201 and "outside_checkin_window" not in codes(r), r.json
    # And without the event's window the same minute is refused (the next day, at the office)
    set_now("2026-03-04T05:45:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(captured_at="2026-03-04T05:44:50+08:00"))
    assert r.status_code == 422 and "outside_checkin_window" in codes(r), r.json


def test_checkout_is_accepted_at_the_office_on_the_event_day(api, set_now):
    given_event(api, set_now)
    set_now("2026-03-03T07:45:00+08:00")
    assert check_in(api, AYU, checkin_session(api, AYU), loc=location(
        **AT_SQUARE, captured_at="2026-03-03T07:44:50+08:00")).status_code == 201
    set_now("2026-03-03T16:00:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU), kind="out", loc=location(captured_at="2026-03-03T15:59:50+08:00"))
    assert r.status_code == 201 and r.json["geo"]["site_id"] == "kantor-denpasar", r.json


def test_another_office_event_changes_nothing_here(api, set_now):
    given_event(api, set_now, office_id="kantor-jakarta")
    set_now("2026-03-03T07:45:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU))
    assert r.status_code == 201 and "event_day" not in codes(r)


def test_delete_a_coming_event_and_both_changes_are_audited(api, set_now):
    given_event(api, set_now)
    r = api.delete(f"{EVENTS}/kantor-denpasar/{DAY}", user="admin")
    assert r.status_code == 200 and r.json["status"] == "removed", r.json
    assert api.get(EVENTS, user="admin").json["events"] == []
    again = api.delete(f"{EVENTS}/kantor-denpasar/{DAY}", user="admin")
    assert again.status_code == 404 and again.json["error"]["code"] == "event_not_found"
    log = api.get("/audit/log?subject=config%23events", user="auditor").json["entries"]
    assert [e["details"]["action"] for e in log] == ["event_set", "event_removed"]
    set_now("2026-03-03T07:45:00+08:00")
    assert check_in(api, AYU, checkin_session(api, AYU)).status_code == 201


def test_a_past_event_cannot_be_deleted(api, set_now):
    given_event(api, set_now)
    set_now("2026-03-04T08:00:00+08:00")
    r = api.delete(f"{EVENTS}/kantor-denpasar/{DAY}", user="admin")
    assert r.status_code == 409 and r.json["error"]["code"] == "event_in_past"


def test_replacing_an_event_keeps_one_per_office_and_date(api, set_now):
    given_event(api, set_now)
    r = api.post(EVENTS, event(name="Upacara Hari Jadi Kota"), user="admin")
    assert r.status_code == 201
    listed = api.get(EVENTS, user="admin").json
    assert listed["version"] == 2 and [e["name"] for e in listed["events"]] == ["Upacara Hari Jadi Kota"]


@pytest.mark.parametrize("user", ["supervisor", "employee", "auditor"])
@pytest.mark.parametrize("method, path", [("POST", EVENTS), ("GET", EVENTS),
                                          ("DELETE", f"{EVENTS}/kantor-denpasar/{DAY}")])
def test_only_admins_set_list_or_delete_events(api, set_now, user, method, path):
    set_now("2026-03-02T12:00:00+08:00")
    who = {"supervisor": KETUT, "employee": AYU, "auditor": "auditor"}[user]
    r = api.call(method, path, event() if method == "POST" else None, user=who)
    assert r.status_code == 403, r.json
    assert api.get(EVENTS, user="admin").json["version"] is None


@pytest.mark.parametrize("body, status, code", [
    (event(date="2026-03-01"), 422, "invalid_event"),  # in the past (the office's today is 2 March)
    (event(office_id="kantor-tidak-ada"), 404, "office_not_found"),
    (event(office_id="../kantor-denpasar"), 422, "invalid_event"),
    (event(office_id="KANTOR-DENPASAR"), 422, "invalid_event"),
    (event(office_id="k" * 500), 422, "invalid_event"),
    (event(name="x" * 121), 422, "invalid_event"),
    (event(name="x" * 100_000), 422, "invalid_event"),
    (event(name="   "), 422, "invalid_event"),
    (event(date="2026-02-30"), 422, "invalid_event"),
    (event(date="9999-12-31"), 422, "invalid_event"),
    (event(radius_m=0), 422, "invalid_geofence"),
    (event(radius_m=60_000), 422, "invalid_geofence"),
    ({**event(), "geofence": {"type": "circle", "lat": "-8.6", "lon": 115.2, "radius_m": 50}}, 422, "invalid_geofence"),
    ({**event(), "geofence": {"type": "Polygon", "coordinates": [[[115.2, -8.6], [115.3, -8.6], [115.3, -8.7]]]}},
     422, "invalid_geofence"),
    ({**event(), "geofence": {"type": "Polygon", "coordinates": [[[0, 0]] * 3000]}}, 422, "invalid_geofence"),
    ({**event(), "geofence": "somewhere"}, 422, "invalid_geofence"),
    ({**event(), "geofence": {"type": "Point", "coordinates": [115.2, -8.6]}}, 422, "invalid_geofence"),
    (event(checkin_window="08:00-06:00"), 422, "invalid_time_rules"),
    (event(checkin_window="25:00-26:00"), 422, "invalid_time_rules"),
    (event(also_office="yes"), 422, "invalid_event"),
])
def test_bad_events_are_refused_with_a_code_and_nothing_is_written(api, set_now, body, status, code):
    set_now("2026-03-02T12:00:00+08:00")
    r = api.post(EVENTS, body, user="admin")
    assert r.status_code == status and r.json["error"]["code"] == code, r.json
    assert api.get(EVENTS, user="admin").json["version"] is None


def test_a_past_date_names_the_office_local_today(api, set_now):
    set_now("2026-03-02T12:00:00+08:00")
    r = api.post(EVENTS, event(date="2026-03-01"), user="admin")
    assert {"field": "date", "code": "in_the_past", "date": "2026-03-01",
            "office_today": "2026-03-02"} in r.json["error"]["details"]["problems"]


def test_today_is_allowed(api, set_now):
    set_now("2026-03-03T06:00:00+08:00")
    assert api.post(EVENTS, event(), user="admin").status_code == 201


def test_a_flagged_checkin_at_the_event_shows_the_event_fence_to_the_reviewer(api, set_now):
    given_event(api, set_now, radius_m=100)
    set_now("2026-03-03T07:45:00+08:00")
    # When Ayu's fix at the square's edge is uncertain (90 m from the centre, accuracy 40 m)
    edge = location(lat=SQUARE["lat"] + 0.00081, lon=SQUARE["lon"], accuracy_m=40,
                    captured_at="2026-03-03T07:44:50+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU), loc=edge)
    assert r.json["decision"] == "flagged" and "event_day" in codes(r), r.json
    # Then her supervisor's queue shows the event's fence, not the office's
    [item] = api.get("/team/reviews?from=2026-03-01&to=2026-03-04", user=KETUT).json["items"]
    fence = item["checkin"]["fence"]
    assert (fence["lat"], fence["lon"], fence["radius_m"]) == (SQUARE["lat"], SQUARE["lon"], 100)


@pytest.mark.parametrize("query, code", [("?office_id=../x", "invalid_event"), ("?from=2026-13-01", "invalid_date"),
                                         ("?from=9999-01-01", "invalid_date")])
def test_a_bad_listing_query_is_a_422(api, query, code):
    r = api.get(EVENTS + query, user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == code, r.json


def test_a_forged_office_in_the_delete_path_is_a_404(api, set_now):
    given_event(api, set_now)
    for path in ("kantor-jakarta/2026-03-03", "kantor-denpasar/2026-03-04", "..%2Fkantor-denpasar/2026-03-03",
                 "kantor-denpasar/not-a-date"):
        r = api.delete(f"{EVENTS}/{path}", user="admin")
        assert r.status_code == 404 and r.json["error"]["code"] == "event_not_found", (path, r.json)
    assert len(api.get(EVENTS, user="admin").json["events"]) == 1
