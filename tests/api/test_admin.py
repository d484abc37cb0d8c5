"""Admin routes: offices, employee import (JSON and Simpeg CSV with per-row results), enrolment reset."""
from tests.api.helpers import AYU, enrol


def test_create_circle_office(api):
    r = api.post("/admin/offices", {"office_id": "kantor-badung", "name": "Kantor Badung",
                                    "timezone": "Asia/Makassar",
                                    "geofence": {"type": "circle", "lat": -8.58, "lon": 115.18, "radius_m": 75},
                                    "checkin_window": "06:00-08:00", "work_start": "08:00"}, user="admin")
    assert r.status_code == 201, r.json
    assert r.json["rules"]["checkin_window"] == ["06:00", "08:00"]
    assert r.json["geofence"]["type"] == "circle"


def test_create_polygon_office(api):
    poly = {"type": "Polygon", "coordinates": [[[115.0, -8.0], [115.01, -8.0], [115.01, -8.01],
                                                [115.0, -8.01], [115.0, -8.0]]]}
    r = api.post("/admin/offices", {"office_id": "kantor-poly", "name": "Poly", "timezone": "Asia/Makassar",
                                    "geofence": poly}, user="admin")
    assert r.status_code == 201, r.json


def test_office_with_impossible_geofence_is_a_422(api):
    r = api.post("/admin/offices", {"office_id": "kantor-x", "name": "X", "timezone": "Asia/Jakarta",
                                    "geofence": {"type": "circle", "lat": 95, "lon": 106, "radius_m": 50}},
                 user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] in ("invalid_geofence", "invalid_coordinates")


def test_office_with_unknown_timezone_is_a_422(api):
    r = api.post("/admin/offices", {"office_id": "kantor-x", "name": "X", "timezone": "Asia/Atlantis",
                                    "geofence": {"type": "circle", "lat": -6, "lon": 106, "radius_m": 50}},
                 user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_time_rules"


def test_office_with_bad_hours_is_a_422(api):
    r = api.post("/admin/offices", {"office_id": "kantor-x", "name": "X", "timezone": "Asia/Jakarta",
                                    "geofence": {"type": "circle", "lat": -6, "lon": 106, "radius_m": 50},
                                    "work_start": "25:99"}, user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_time_rules"


def test_json_import_keeps_valid_rows_and_reports_bad_ones(api):
    rows = [
        {"nip": "198702142011012003", "name": "Komang Sari", "office_ids": ["kantor-denpasar"],
         "supervisor_nip": "197805122005011002", "password": "Sementara-123"},
        {"nip": "198702142011012", "name": "Short Nip", "office_ids": ["kantor-denpasar"]},
        {"nip": "199913312020011001", "name": "Bad Date", "office_ids": ["kantor-denpasar"]},
        {"nip": "198803032012031004", "name": "No Office", "office_ids": ["kantor-mars"]},
        {"nip": "198803032012031005", "name": "Bad role", "office_ids": ["kantor-denpasar"],
         "roles": ["king"]},
    ]
    r = api.post("/admin/employees", rows, user="admin")
    assert r.status_code == 200, r.json
    assert r.json["created"] == 1 and r.json["failed"] == 4
    codes = [row.get("error", {}).get("code") for row in r.json["rows"]]
    assert codes == [None, "invalid_nip", "invalid_nip", "invalid_employee", "invalid_employee"]
    assert r.json["rows"][1]["error"]["details"]["problems"]
    # the valid row can log in
    assert api.post("/auth/login", {"username": "198702142011012003",
                                    "password": "Sementara-123"}).status_code == 200


def test_simpeg_csv_import(api):
    csv_text = ("nip;nama;unit_kerja;kantor;nip_atasan;peran;password\n"
                "198702142011012003;Komang Sari;Umum;kantor-denpasar;197805122005011002;employee;Sementara-123\n"
                "12345;Salah;Umum;kantor-denpasar;;employee;Sementara-123\n")
    r = api.post("/admin/employees", raw=csv_text.encode(), content_type="text/csv", user="admin")
    assert r.status_code == 200, r.json
    assert [row["ok"] for row in r.json["rows"]] == [True, False]
    assert r.json["rows"][1]["error"]["code"] == "invalid_nip"
    team = api.get("/team/attendance?date=2026-03-03", user="197805122005011002").json
    assert "198702142011012003" in [s["nip"] for s in team["staff"]]


def test_import_where_every_row_fails_is_a_422(api):
    r = api.post("/admin/employees", [{"nip": "x", "name": "x", "office_ids": ["kantor-denpasar"]}],
                 user="admin")
    assert r.status_code == 422 and r.json["failed"] == 1


def test_csv_without_header_is_a_422(api):
    r = api.post("/admin/employees", raw=b"198702142011012003;Komang\n", content_type="text/csv",
                 user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_csv"


def test_reset_enrolment_allows_a_new_one_and_is_audited(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    # When
    r = api.delete(f"/admin/employees/{AYU}/enrollment?reason=new+glasses", user="admin")
    # Then
    assert r.status_code == 200, r.json
    assert api.get("/me", user=AYU).json["enrollment"]["status"] == "not_enrolled"
    from chalicelib.wiring import get_services
    trail = get_services().records.audit_trail(AYU)
    resets = [a for a in trail if a.action == "enrolment_reset"]
    assert len(resets) == 1 and resets[0].actor == "admin"
    assert enrol(api, AYU).status_code == 201


def test_reset_when_not_enrolled_is_a_409(api):
    r = api.delete(f"/admin/employees/{AYU}/enrollment", user="admin")
    assert r.status_code == 409 and r.json["error"]["code"] == "not_enrolled"


def test_reset_of_unknown_employee_is_a_404(api):
    r = api.delete("/admin/employees/198503302010011001/enrollment", user="admin")
    assert r.status_code == 404


def test_reimport_without_a_password_keeps_the_existing_password(api):
    # Given Ayu, who logs in with her password
    from tests.api.helpers import KETUT
    row = {"nip": AYU, "name": "Ni Luh Putu Ayu", "unit": "Bagian Baru", "office_ids": ["kantor-denpasar"],
           "supervisor_nip": KETUT}
    # When the personnel list is imported again without passwords
    r = api.post("/admin/employees", [row], user="admin")
    # Then her row is updated and she still logs in with her own password
    assert r.status_code == 200 and r.json["created"] == 1, r.json
    assert api.post("/auth/login", {"username": AYU, "password": api.password}).status_code == 200
    assert api.get("/me", user=AYU).json["unit"] == "Bagian Baru"


def test_reimport_without_a_role_takes_the_cognito_group_away(api):
    # Given Ketut, a supervisor
    from tests.api.helpers import KETUT
    assert api.get("/team/attendance?date=2026-03-03", user=KETUT).status_code == 200
    # When he is imported again as an employee only
    row = {"nip": KETUT, "name": "I Ketut Wirawan", "office_ids": ["kantor-denpasar"],
           "roles": ["employee"]}
    assert api.post("/admin/employees", [row], user="admin").json["created"] == 1
    # Then his next token no longer carries the supervisor group
    token = api.post("/auth/login", {"username": KETUT, "password": api.password}).json["id_token"]
    r = api.get("/team/attendance?date=2026-03-03", token=token)
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert api.get("/me", token=token).json["roles"] == ["employee"]
