"""The structural level (eselon) as an optional employee attribute of the import (JSON and CSV)."""
import pytest

from local.seed import OFFICES
from tests.api.helpers import AYU, KETUT

OFFICE = OFFICES[0]["office_id"]


def stored(nip):
    from chalicelib.wiring import get_services
    return get_services().records.get_employee(nip)


def test_a_json_import_keeps_the_echelon_canonically(api):
    # Given a row with eselon "iiia"
    row = {"nip": AYU, "name": "Ni Luh Putu Ayu", "office_ids": [OFFICE], "supervisor_nip": KETUT, "echelon": "iiia"}
    r = api.post("/admin/employees", [row], user="admin")
    # Then it is saved as III.a
    assert r.status_code in (200, 201) and r.json["created"] == 1, r.json
    assert stored(AYU).echelon == "III.a"


def test_a_csv_import_reads_the_eselon_column(api):
    csv = f"nip;nama;kantor;nip_atasan;eselon\n{AYU};Ni Luh Putu Ayu;{OFFICE};{KETUT};IV.b\n"
    r = api.post("/admin/employees", raw=csv.encode(), content_type="text/csv", user="admin")
    assert r.status_code in (200, 201) and r.json["created"] == 1, r.json
    assert stored(AYU).echelon == "IV.b"


@pytest.mark.parametrize("bad", ["VI", "II.c", "kepala", 7])
def test_an_unknown_echelon_fails_its_row_only(api, bad):
    rows = [{"nip": AYU, "name": "Ayu", "office_ids": [OFFICE], "echelon": bad}]
    r = api.post("/admin/employees", rows, user="admin")
    assert r.json["failed"] == 1 and r.json["rows"][0]["error"]["code"] == "invalid_employee", r.json
    assert "echelon" in str(r.json["rows"][0]["error"]["details"])
