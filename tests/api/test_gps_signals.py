"""GPS-spoof signals in the check-in decision (policy/signals.py): each flags the attempt for a
supervisor, with its numbers, and the day shows it as flagged."""
from tests.api.helpers import ANDI, AYU, check_in, checkin_session, enrol, location


def given_enrolled(api, set_now, nip=AYU, at="2026-03-03T07:45:00+08:00"):
    clock = set_now(at)
    assert enrol(api, nip).status_code == 201
    return clock


def reason(r, code):
    return next((x for x in r.json["reasons"] if x["code"] == code), None)


def test_an_accuracy_no_phone_reaches_is_flagged_as_implausible(api, set_now):
    given_enrolled(api, set_now)
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(accuracy_m=0))
    assert r.status_code == 201 and r.json["decision"] == "flagged", r.json
    assert reason(r, "implausible_accuracy") == {"code": "implausible_accuracy", "effect": "flag",
                                                 "accuracy_m": 0.0, "min_accuracy_m": 1.0}


def test_the_office_centre_typed_in_is_flagged_as_copied(api, set_now):
    given_enrolled(api, set_now)
    # When the fix is exactly the office's configured centre (as a fake-GPS app would set it)
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(lat=-8.6705, lon=115.2126))
    # Then flagged, naming the site whose centre was copied; the day awaits review
    assert r.json["decision"] == "flagged"
    assert reason(r, "copied_coordinates")["site_id"] == "kantor-denpasar"
    day = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=AYU).json["days"][0]
    assert day["status"] == "pending_review"


def test_the_same_point_on_several_days_is_flagged_as_repeated(api, set_now):
    given_enrolled(api, set_now, at="2026-03-02T07:45:00+08:00")
    # Given check-ins on Monday and Tuesday at the very same point
    same = {"lat": -8.670511, "lon": 115.212655}
    for day in ("2026-03-02", "2026-03-03"):
        set_now(f"{day}T07:45:00+08:00")
        r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**same, captured_at=f"{day}T07:44:55+08:00"))
        assert r.json["decision"] == "accepted", r.json
    # When Wednesday's check-in lands on it again
    set_now("2026-03-04T07:45:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(**same, captured_at="2026-03-04T07:44:55+08:00"))
    # Then it is flagged with the days it was seen on
    assert r.json["decision"] == "flagged"
    assert reason(r, "repeated_coordinates")["dates"] == ["2026-03-03", "2026-03-02"]


def test_jakarta_then_bandung_in_a_quarter_of_an_hour_is_impossible_travel(api, set_now):
    # Given Andi (dinas luar in Bandung Barat this week) checked in at the Jakarta office at 07:30 WIB
    given_enrolled(api, set_now, nip=ANDI, at="2026-03-03T07:30:00+07:00")
    jakarta = location(lat=-6.17542, lon=106.82724, captured_at="2026-03-03T07:29:55+07:00")
    assert check_in(api, ANDI, checkin_session(api, ANDI), loc=jakarta).json["decision"] == "accepted"
    # When he checks out at his Bandung Barat assignment 15 minutes later (~110 km away)
    set_now("2026-03-03T07:45:00+07:00")
    bandung = location(lat=-6.84331, lon=107.49604, captured_at="2026-03-03T07:44:55+07:00")
    r = check_in(api, ANDI, checkin_session(api, ANDI), kind="out", loc=bandung)
    # Then the check-out is flagged with the speed it would have taken
    travel = reason(r, "impossible_travel")
    assert r.json["decision"] == "flagged" and travel["speed_kmh"] > 300, r.json
    assert travel["elapsed_s"] == 900 and travel["max_speed_kmh"] == 300.0


def with_exif(taken: str, offset: str | None = None) -> bytes:
    """A fake-engine face photo (lossless PNG, so the fake still reads its marker pixels) with an
    EXIF capture time as a camera writes it."""
    import io

    from PIL import Image

    from tests.api.helpers import FACE
    from tests.fakes import photo
    img = Image.open(io.BytesIO(photo(FACE, seed=9)))
    exif = Image.Exif()
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = taken
    if offset:
        ifd[0x9011] = offset
    buf = io.BytesIO()
    img.save(buf, "PNG", exif=exif.tobytes())
    return buf.getvalue()


def test_a_photo_the_camera_took_yesterday_is_flagged_as_a_stale_capture(api, set_now):
    given_enrolled(api, set_now)
    # When the selfie's EXIF says it was taken yesterday (a gallery photo, not a capture now)
    r = check_in(api, AYU, checkin_session(api, AYU, with_exif("2026:03:02 07:44:00", "+08:00")))
    # Then it is flagged for review with the times compared
    stale = reason(r, "stale_capture")
    assert r.json["decision"] == "flagged" and stale["taken_at"] == "2026-03-02T07:44:00+08:00", r.json


def test_a_photo_taken_just_now_raises_no_capture_reason(api, set_now):
    given_enrolled(api, set_now)
    r = check_in(api, AYU, checkin_session(api, AYU, with_exif("2026:03:03 07:44:40")))  # phone's local time
    assert r.json["decision"] == "accepted" and reason(r, "stale_capture") is None, r.json
