"""One translation of bad input into the error envelope: malformed bodies are 400, rule breaks
422 with a machine-readable code and ``details.problems`` (field, code, message); domain parsers'
own codes reach the client unchanged."""
import pytest

from tests.api.helpers import AYU, location


def problems(r):
    return {(p["field"], p["code"]) for p in r.json["error"]["details"]["problems"]}


@pytest.mark.parametrize("raw, code", [(b"", "missing_body"), (b"{nope", "invalid_json"),
                                       (b"[1, 2]", "invalid_body"), (b'"text"', "invalid_body"),
                                       (b"\xff\xfe\x00", "invalid_json")])
def test_a_body_that_cannot_be_read_is_a_400(api, raw, code):
    r = api.post("/checkins", raw=raw, user=AYU)
    assert r.status_code == 400 and r.json["error"]["code"] == code


def test_missing_fields_are_listed_with_their_problems(api):
    r = api.post("/checkins", {"type": "in"}, user=AYU)
    assert r.status_code == 422 and r.json["error"]["code"] == "missing_fields"
    assert r.json["error"]["details"]["fields"] == ["session_id", "location"]
    assert problems(r) == {("session_id", "missing"), ("location", "missing")}


def test_a_string_for_a_number_is_refused_not_guessed(api):
    # Given a latitude sent as a string (a client bug, never a number to guess at)
    r = api.post("/checkins", {"session_id": "s", "type": "in",
                               "location": location(lat="-8.6705")}, user=AYU)
    # Then the position parser's own code and problem reach the client
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_coordinates"
    assert ("lat", "not_a_number") in problems(r)


def test_a_field_breaking_its_pattern_names_the_field_and_the_rule(api):
    r = api.post("/admin/offices", {"office_id": "Kantor X!", "name": "X", "timezone": "Asia/Jakarta",
                                    "geofence": {"type": "circle", "lat": -6, "lon": 106, "radius_m": 50}},
                 user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_office"
    assert problems(r) == {("office_id", "string_pattern_mismatch")}
    assert r.json["error"]["details"]["problems"][0]["message"]


def test_a_non_string_where_a_string_is_expected_is_invalid(api):
    r = api.post("/auth/login", {"username": 199001152015032001, "password": "x"})
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_username"
    assert problems(r) == {("username", "string_type")}


def test_query_strings_are_parsed_and_explained(api):
    r = api.get("/team/attendance?date=2026-02-30", user="197805122005011002")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_date"
    assert [p["field"] for p in r.json["error"]["details"]["problems"]] == ["date"]


def test_a_non_utf8_simpeg_csv_is_a_422_not_a_crash(api):
    r = api.post("/admin/employees", raw="nip;nama\n199001152015032001;Ni Luh Putu Ayu \xe9\n".encode("latin-1"),
                 content_type="text/csv", user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_csv"
