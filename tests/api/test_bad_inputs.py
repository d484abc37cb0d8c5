"""A corpus of named bad inputs: each is refused with its 4xx status and code, and nothing was
written (every DynamoDB table and S3 bucket of the moto backend is the same before and after).

Coordinates, tokens, sessions, CSV imports, dates, headers, bodies and images (the image cases
enrol with photos that cannot be read; their decode cost is tested elsewhere).
"""
from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import boto3
import pytest
from tests.api.helpers import AYU, KETUT, location
from tests.fakes import photo

REGION = "ap-southeast-3"
SESSION = "0123456789abcdef0123456789abcdef"  # no such session


def snapshot() -> dict[str, Any]:
    """Every item of every table and every object (key, ETag) of every bucket."""
    ddb, s3 = boto3.client("dynamodb", region_name=REGION), boto3.client("s3", region_name=REGION)
    state: dict[str, Any] = {}
    for name in ddb.list_tables()["TableNames"]:
        items = ddb.get_paginator("scan").paginate(TableName=name).build_full_result()["Items"]
        state[f"table:{name}"] = sorted(json.dumps(i, sort_keys=True) for i in items)
    for bucket in s3.list_buckets()["Buckets"]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"])
        state[f"bucket:{bucket['Name']}"] = sorted(
            (o["Key"], o["ETag"]) for page in pages for o in page.get("Contents", []))
    return state


def assert_nothing_written(before: dict[str, Any], after: dict[str, Any]) -> None:
    """The same tables, buckets, items and objects: a refused request left no trace."""
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert not changed, {k: {"before": len(before.get(k) or ()), "after": len(after.get(k) or ())}
                         for k in changed}


def checkin(**loc: Any) -> dict[str, Any]:
    return {"session_id": SESSION, "type": "in", "location": location(**loc)}


def raw_checkin(lat: str) -> bytes:
    """A check-in whose latitude is spelled as given (numbers JSON cannot carry)."""
    return (b'{"session_id": "%s", "type": "in", "location": {"lat": %s, "lon": 115.2, '
            b'"accuracy_m": 8, "captured_at": "2026-03-03T07:44:50+08:00"}}' % (SESSION.encode(), lat.encode()))


def unsigned_token() -> str:
    """A JWT with ``alg: none`` claiming to be an admin."""
    def b64(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'cognito:groups': ['admin'], 'sub': 'x'})}."


def csv_rows(n: int) -> bytes:
    return ("nip;nama\n" + "".join(f"1990011520150320{i % 10:02d};Orang {i}\n" for i in range(n))).encode()


def enrol_with(data: bytes, ctype: str = "image/png") -> Callable[[Any], dict[str, Any]]:
    """Given: an enrolment session whose first upload is ``data`` (declared ``ctype``), the
    others good photos."""
    def given(api: Any) -> dict[str, Any]:
        s = api.post("/me/enrollment/uploads", user=AYU)
        assert s.status_code == 201, s.json
        for i, target in enumerate(s.json["uploads"]):
            api.upload(target, data if i == 0 else photo((30, 120, 200), seed=i), ctype if i == 0 else "image/png")
        return {"session_id": s.json["session_id"], "consent": True}
    return given


def jpeg() -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (400, 400), (30, 120, 200)).save(out, "JPEG", quality=95)
    return out.getvalue()


@dataclass(frozen=True)
class Bad:
    name: str
    method: str
    path: str
    status: int
    code: str
    body: Any = None
    raw: bytes | None = None
    user: str | None = AYU
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    given: Callable[[Any], dict[str, Any]] | None = None  # its result is the body (e.g. a real session)


CORPUS = [
    # --- coordinates (POST /checkins) ---
    Bad("lat_400_digit_integer", "POST", "/checkins", 422, "invalid_number", raw=raw_checkin("9" * 400)),
    Bad("lat_nan", "POST", "/checkins", 422, "invalid_number", raw=raw_checkin("NaN")),
    Bad("lat_minus_infinity", "POST", "/checkins", 422, "invalid_number", raw=raw_checkin("-Infinity")),
    Bad("lat_exponent_1e999", "POST", "/checkins", 422, "invalid_number", raw=raw_checkin("1e999")),
    Bad("lat_91", "POST", "/checkins", 422, "invalid_coordinates", body=checkin(lat=91)),
    Bad("lon_minus_181", "POST", "/checkins", 422, "invalid_coordinates", body=checkin(lon=-181)),
    Bad("null_island", "POST", "/checkins", 422, "invalid_coordinates", body=checkin(lat=0, lon=0)),
    Bad("lat_as_string", "POST", "/checkins", 422, "invalid_coordinates", body=checkin(lat="-8.67")),
    Bad("lat_as_bool", "POST", "/checkins", 422, "invalid_coordinates", body=checkin(lat=True)),
    Bad("accuracy_negative", "POST", "/checkins", 422, "invalid_accuracy", body=checkin(accuracy_m=-1)),
    Bad("accuracy_a_billion_metres", "POST", "/checkins", 422, "invalid_accuracy", body=checkin(accuracy_m=1e9)),
    Bad("captured_at_year_9999", "POST", "/checkins", 422, "invalid_captured_at",
        body=checkin(captured_at="9999-12-31T23:59:59-12:00")),
    Bad("captured_at_without_offset", "POST", "/checkins", 422, "invalid_captured_at",
        body=checkin(captured_at="2026-03-03T07:44:50")),
    Bad("is_mock_as_string", "POST", "/checkins", 422, "invalid_is_mock", body=checkin(is_mock="false")),
    Bad("geofence_radius_1000_km", "POST", "/admin/offices", 422, "invalid_geofence", user="admin", body={
        "office_id": "x-1", "name": "X", "timezone": "Asia/Jakarta",
        "geofence": {"type": "circle", "lat": -6.2, "lon": 106.8, "radius_m": 1e6}}),
    Bad("polygon_of_20000_positions", "POST", "/admin/offices", 422, "invalid_geofence", user="admin", body={
        "office_id": "x-2", "name": "X", "timezone": "Asia/Jakarta", "geofence": {"type": "Polygon", "coordinates": [
            [[106.8 + i * 1e-6, -6.2] for i in range(20000)]]}}),
    # --- tokens ---
    Bad("no_token", "GET", "/me", 401, "missing_token", user=None),
    Bad("basic_scheme", "GET", "/me", 401, "missing_token", user=None, headers={"Authorization": "Basic YTpi"}),
    Bad("garbage_jwt", "GET", "/me", 401, "invalid_token", user=None, token="a.b.c"),
    Bad("token_of_20000_chars", "GET", "/me", 401, "invalid_token", user=None, token="a" * 20000),
    Bad("token_not_ascii", "GET", "/me", 401, "invalid_token", user=None, token="é" * 40),
    Bad("unsigned_alg_none_admin", "GET", "/audit/log", 401, "invalid_token", user=None, token=unsigned_token()),
    Bad("employee_on_admin_route", "POST", "/admin/offices", 403, "forbidden", body={}),
    Bad("auditor_checks_in", "POST", "/checkins", 403, "forbidden", user="auditor", body=checkin()),
    # --- sessions ---
    Bad("checkin_before_enrolment", "POST", "/checkins", 409, "not_enrolled", body=checkin()),
    Bad("session_id_of_65_chars", "POST", "/checkins", 422, "invalid_session",
        body={**checkin(), "session_id": "s" * 65}),
    Bad("unknown_enrolment_session", "POST", "/me/enrollment", 404, "session_not_found",
        body={"session_id": SESSION, "consent": True}),
    Bad("enrolment_without_consent", "POST", "/me/enrollment", 422, "consent_required",
        body={"session_id": SESSION, "consent": "yes"}),
    Bad("check_type_sideways", "POST", "/checkins", 422, "invalid_type", body={**checkin(), "type": "sideways"}),
    # --- CSV imports (POST /admin/employees) ---
    Bad("csv_latin1", "POST", "/admin/employees", 422, "invalid_csv", user="admin", content_type="text/csv",
        raw="nip;nama\n199001152015032001;Ni Luh Putu Ayu \xe9\n".encode("latin-1")),
    Bad("csv_utf16", "POST", "/admin/employees", 422, "invalid_csv", user="admin", content_type="text/csv",
        raw="nip;nama\n199001152015032001;Ayu\n".encode("utf-16")),
    Bad("csv_nul_bytes", "POST", "/admin/employees", 422, "invalid_csv", user="admin", content_type="text/csv",
        raw=b"nip;nama\n1990011520\x0015032001;Ayu\n"),
    Bad("csv_without_nip_header", "POST", "/admin/employees", 422, "invalid_csv", user="admin",
        content_type="text/csv", raw=b"nama;unit\nAyu;Bali\n"),
    Bad("csv_cell_of_5000_chars", "POST", "/admin/employees", 422, "invalid_csv", user="admin",
        content_type="text/csv", raw=b"nip;nama\n199001152015032001;" + b"A" * 5000 + b"\n"),
    Bad("csv_field_over_csv_module_limit", "POST", "/admin/employees", 422, "invalid_csv", user="admin",
        content_type="text/csv", raw=b'nip;nama\n199001152015032001;"' + b"A" * 200_000 + b'"\n'),
    Bad("csv_of_1001_rows", "POST", "/admin/employees", 413, "too_many_rows", user="admin",
        content_type="text/csv", raw=csv_rows(1001)),
    Bad("csv_over_2_mb", "POST", "/admin/employees", 413, "body_too_large", user="admin",
        content_type="text/csv", raw=b"nip;nama\n" + b"199001152015032001;Ayu\n" * 100_000),
    Bad("json_import_5000_deep", "POST", "/admin/employees", 400, "body_too_deep", user="admin",
        raw=b"[" * 5000 + b"]" * 5000),
    # --- dates ---
    Bad("attendance_to_9999", "GET", "/me/attendance?to=9999-12-31", 422, "invalid_date"),
    Bad("attendance_from_year_1", "GET", "/me/attendance?from=0001-01-01", 422, "invalid_date"),
    Bad("attendance_february_30", "GET", "/me/attendance?from=2026-02-30", 422, "invalid_date"),
    Bad("attendance_a_year_long", "GET", "/me/attendance?from=2026-01-01&to=2026-12-31", 422, "invalid_range"),
    Bad("audit_log_to_9999", "GET", "/audit/log?to=9999-12-31", 422, "invalid_date", user="auditor"),
    Bad("team_attendance_9999", "GET", "/team/attendance?date=9999-12-31", 422, "invalid_date", user=KETUT),
    Bad("reviews_to_9999", "GET", "/team/reviews?to=9999-12-31", 422, "invalid_date", user=KETUT),
    Bad("export_of_9999", "GET", "/audit/exports?date=9999-12-31", 422, "invalid_date", user="auditor"),
    Bad("recap_of_9999", "POST", "/admin/recaps", 422, "invalid_month", user="admin", body={"month": "9999-01"}),
    Bad("recap_of_a_future_month", "POST", "/admin/recaps", 422, "invalid_month", user="admin",
        body={"month": "2100-12"}),
    Bad("recap_month_as_number", "POST", "/admin/recaps", 422, "invalid_month", user="admin", body={"month": 202603}),
    Bad("recap_by_a_supervisor", "POST", "/admin/recaps", 403, "forbidden", user=KETUT, body={"month": "2026-03"}),
    Bad("recaps_of_month_13", "GET", "/audit/recaps?month=2026-13", 422, "invalid_month", user="auditor"),
    Bad("request_ending_9999", "POST", "/me/requests", 422, "invalid_request_dates", body={
        "type": "leave", "subtype": "annual", "start": "2026-03-02", "end": "9999-12-31", "reason": "x"}),
    Bad("site_valid_to_9999", "POST", f"/admin/employees/{AYU}/sites", 422, "invalid_validity", user="admin",
        body={"site_id": "rumah", "kind": "home", "valid_to": "9999-12-31",
              "geofence": {"type": "circle", "lat": -8.6, "lon": 115.2, "radius_m": 100}}),
    Bad("offline_captured_in_1900", "POST", "/checkins", 422, "invalid_offline_captured_at",
        body={**checkin(), "offline_captured_at": "1900-01-01T08:00:00+08:00", "offline_steps": ["front"]}),
    # --- headers ---
    Bad("idempotency_key_of_5000_chars", "POST", "/checkins", 400, "invalid_idempotency_key", body=checkin(),
        headers={"Idempotency-Key": "k" * 5000}),
    Bad("idempotency_key_blank", "POST", "/checkins", 400, "invalid_idempotency_key", body=checkin(),
        headers={"Idempotency-Key": "   "}),
    Bad("idempotency_key_not_ascii", "POST", "/checkins", 400, "invalid_idempotency_key", body=checkin(),
        headers={"Idempotency-Key": "kunci-ü-1"}),
    Bad("device_id_with_spaces", "POST", "/checkins", 400, "invalid_device_id", body=checkin(),
        headers={"X-Device-Id": "my phone 1234"}),
    Bad("device_id_too_short", "POST", "/checkins", 400, "invalid_device_id", body=checkin(),
        headers={"X-Device-Id": "abc"}),
    Bad("device_id_of_500_chars", "POST", "/me/enrollment", 400, "invalid_device_id",
        body={"session_id": SESSION, "consent": True}, headers={"X-Device-Id": "d" * 500}),
    # --- path parameters ---
    Bad("nip_in_path_of_3000_chars", "GET", "/admin/employees/" + "9" * 3000 + "/sites", 400,
        "invalid_path_parameter", user="admin"),
    Bad("review_id_in_path_of_3000_chars", "POST", "/team/reviews/c." + "9" * 3000, 400,
        "invalid_path_parameter", user=KETUT, body={"decision": "approve"}),
    Bad("request_id_in_path_of_257_chars", "DELETE", "/me/requests/rq-" + "a" * 254, 400, "invalid_path_parameter"),
    # --- bodies ---
    Bad("empty_body", "POST", "/checkins", 400, "missing_body", raw=b""),
    Bad("not_json", "POST", "/checkins", 400, "invalid_json", raw=b"{nope"),
    Bad("array_body", "POST", "/checkins", 400, "invalid_body", raw=b"[1, 2]"),
    Bad("object_5000_deep", "POST", "/checkins", 400, "body_too_deep", raw=b'{"a":' * 5000 + b"1" + b"}" * 5000),
    Bad("array_17_deep", "POST", "/me/requests", 400, "body_too_deep", raw=b"[" * 17 + b"]" * 17),
    Bad("body_over_512_kb", "POST", "/me/requests", 413, "body_too_large",
        raw=json.dumps({"reason": "x" * 600_000}).encode()),
    Bad("checkin_as_text_plain", "POST", "/checkins", 415, "unsupported_media_type", body=checkin(),
        content_type="text/plain"),
    Bad("request_as_form_data", "POST", "/me/requests", 415, "unsupported_media_type",
        raw=b"kind=leave", content_type="application/x-www-form-urlencoded"),
    Bad("checkins_with_put", "PUT", "/checkins", 405, "method_not_allowed", body=checkin()),
    Bad("login_username_of_1000_chars", "POST", "/auth/login", 422, "invalid_username", user=None,
        body={"username": "u" * 1000, "password": "x"}),
    Bad("login_number_as_username", "POST", "/auth/login", 422, "invalid_username", user=None,
        body={"username": 1e300, "password": "x"}),
    # --- images (enrolment with one photo that cannot be read: the photo's own reason, corrupt_image
    # is in details.photos; a file under 1 KB is refused as corrupt_image; bytes that are not the
    # declared type are refused before any decode, unsupported_image) ---
    Bad("image_zero_bytes", "POST", "/me/enrollment", 422, "corrupt_image", given=enrol_with(b"")),
    Bad("image_corrupt_png", "POST", "/me/enrollment", 422, "enrolment_photo_rejected",
        given=enrol_with(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)),
    Bad("image_truncated_jpeg", "POST", "/me/enrollment", 422, "enrolment_photo_rejected",
        given=enrol_with(jpeg()[:1500], "image/jpeg")),
    Bad("image_text_declared_png", "POST", "/me/enrollment", 415, "unsupported_image",  # sniffed
        given=enrol_with(b"hello, I am not a photo " * 100)),
    Bad("image_gif_declared_jpeg", "POST", "/me/enrollment", 415, "unsupported_image",
        given=enrol_with(b"GIF89a" + bytes(2000), "image/jpeg")),
]


def test_the_corpus_is_large_and_named_uniquely():
    names = [b.name for b in CORPUS]
    assert len(names) >= 40 and len(set(names)) == len(names)


def refused(api: Any, bad: Bad) -> str | None:
    """None if ``bad`` is refused with its status and code and nothing was written, else why not."""
    body = bad.given(api) if bad.given else bad.body
    token = bad.token or (api.token(bad.user) if bad.user else None)
    headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **bad.headers}
    before = snapshot()
    r = api.call(bad.method, bad.path, body, headers=headers, raw=bad.raw, content_type=bad.content_type)
    got = (r.status_code, (r.json or {}).get("error", {}).get("code"))
    if got != (bad.status, bad.code):
        return f"{bad.name}: expected {(bad.status, bad.code)}, got {got}: {str(r.json)[:300]}"
    try:
        assert_nothing_written(before, snapshot())
    except AssertionError as exc:
        return f"{bad.name}: wrote {exc}"
    return None


def test_every_bad_input_is_refused_with_its_code_and_writes_nothing(api):
    # Given the seeded world (one for the corpus: a refused request changes nothing by definition)
    # When each bad request of the corpus is sent (after its own setup, if any)
    failures = [why for bad in CORPUS if (why := refused(api, bad))]
    # Then each was refused with its status and code, and left every table and bucket as it was
    assert not failures, "\n".join(failures)


def test_the_check_sees_a_write(api):
    # Given a snapshot of the backend
    before = snapshot()
    # When a valid request saves an office
    r = api.post("/admin/offices", {"office_id": "kantor-baru", "name": "Kantor Baru", "timezone": "Asia/Jakarta",
                                    "geofence": {"type": "circle", "lat": -6.2, "lon": 106.8, "radius_m": 80}},
                 user="admin")
    assert r.status_code == 201, r.json
    # Then assert_nothing_written fails, naming the table
    with pytest.raises(AssertionError, match="table:"):
        assert_nothing_written(before, snapshot())


def test_an_import_row_whose_nip_is_a_list_fails_alone_not_the_request(api):
    # Given an import whose first row's NIP is a list (a value no set can hold: it was a 500)
    rows = [{"nip": ["199001152015032001"], "name": "X"}, {"nip": {"a": 1}, "name": "Y"}]
    before = snapshot()
    # When it is imported
    r = api.post("/admin/employees", rows, user="admin")
    # Then each row failed with its reason, the request is a 422, and nothing was written
    assert r.status_code == 422 and r.json["created"] == 0
    assert [row["error"]["code"] for row in r.json["rows"]] == ["invalid_nip", "invalid_nip"]
    assert_nothing_written(before, snapshot())
