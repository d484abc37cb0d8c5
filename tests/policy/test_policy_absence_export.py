"""Absentees after the check-in window, and the daily CSV export with its manifest."""
import csv
import hashlib
import io
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.policy import (
    CSV_COLUMNS,
    EXPORT_SCHEMA_VERSION,
    DayStatus,
    EmployeeRef,
    LatenessTable,
    OfficeRules,
    find_absentees,
    group_by_supervisor,
    manifest,
    records_to_csv,
    window_closed,
)

UTC = timezone.utc
DAY = date(2025, 3, 3)
WORKING = DayStatus(True, "working_day")
HEAD = "197001012000011001"
STAFF = [
    EmployeeRef("198503302010011001", "I Made Sudarma", HEAD, "opd-dps"),
    EmployeeRef("199001152015032002", "Ni Luh Ayu", HEAD, "opd-dps"),
    EmployeeRef("198807072012121003", "Komang Arta", "198001012005011002", "opd-dps"),
    EmployeeRef(HEAD, "Kepala Dinas", None, "opd-dps"),
]


class TestFindAbsentees:
    def test_those_without_accepted_check_in_or_excuse_are_absent(self):
        # Given four staff: one checked in, one on approved leave
        records = find_absentees(local_date=DAY, employees=STAFF, day_status=WORKING,
                                 accepted_checkin_nips={"198503302010011001"},
                                 excused_nips={"199001152015032002"})
        # Then the other two are absent, in NIP order, with a reason naming the day
        assert [r.nip for r in records] == ["197001012000011001", "198807072012121003"]
        assert records[1].supervisor_nip == "198001012005011002"
        assert records[1].reasons == [{"code": "no_checkin", "local_date": "2025-03-03",
                                       "day": "working_day"}]
        assert records[1].to_dict()["name"] == "Komang Arta"

    def test_a_non_working_day_has_no_absentees(self):
        assert find_absentees(local_date=date(2025, 3, 31), employees=STAFF,
                              accepted_checkin_nips=set(),
                              day_status=DayStatus(False, "national_holiday", "Idul Fitri")) == []

    def test_the_allowance_cut_is_carried_when_the_table_is_given(self):
        records = find_absentees(local_date=DAY, employees=STAFF[:1], day_status=WORKING,
                                 accepted_checkin_nips=set(), lateness=LatenessTable())
        assert records[0].reasons[0]["percent"] == 4.0

    def test_duplicates_in_the_staff_list_are_reported_once(self):
        records = find_absentees(local_date=DAY, employees=STAFF + STAFF[:1], day_status=WORKING,
                                 accepted_checkin_nips=set())
        assert len(records) == 4

    def test_grouped_by_supervisor(self):
        records = find_absentees(local_date=DAY, employees=STAFF, day_status=WORKING,
                                 accepted_checkin_nips=set())
        groups = group_by_supervisor(records)
        assert {k: [r.nip for r in v] for k, v in groups.items()} == {
            None: [HEAD],
            HEAD: ["198503302010011001", "199001152015032002"],
            "198001012005011002": ["198807072012121003"],
        }

    @settings(max_examples=40, deadline=None)
    @given(checked=st.sets(st.sampled_from([e.nip for e in STAFF])),
           excused=st.sets(st.sampled_from([e.nip for e in STAFF])))
    def test_everyone_is_present_excused_or_absent_exactly_once(self, checked, excused):
        records = find_absentees(local_date=DAY, employees=STAFF, day_status=WORKING,
                                 accepted_checkin_nips=checked, excused_nips=excused)
        absent = {r.nip for r in records}
        assert absent == {e.nip for e in STAFF} - checked - excused
        assert len(absent) == len(records)


class TestWindowClosed:
    @pytest.mark.parametrize("utc, closed", [
        (datetime(2025, 3, 3, 1, 59, 59, tzinfo=UTC), False),  # 09:59:59 WITA
        (datetime(2025, 3, 3, 2, 0, tzinfo=UTC), True),        # 10:00 WITA
        (datetime(2025, 3, 3, 15, 59, tzinfo=UTC), True),      # 23:59 WITA
        (datetime(2025, 3, 3, 16, 1, tzinfo=UTC), False),      # 00:01 the next WITA day
    ])
    def test_closes_at_the_window_end_in_local_time(self, utc, closed):
        assert window_closed(utc, OfficeRules("Asia/Makassar")) is closed

    def test_same_instant_differs_by_time_zone(self):
        # Given 02:30 UTC: 09:30 in Jakarta (open), 11:30 in Jayapura (closed)
        now = datetime(2025, 3, 3, 2, 30, tzinfo=UTC)
        assert not window_closed(now, OfficeRules("Asia/Jakarta"))
        assert window_closed(now, OfficeRules("Asia/Jayapura"))


ROWS = [
    {"nip": "199001152015032002", "name": "Ni Luh Ayu", "local_date": "2025-03-03",
     "kind": "in", "local_time": "07:45:10", "decision": "accepted", "late_minutes": 15,
     "tier": "TL1", "distance_m": 12.345, "reasons": [{"code": "face_match"}, {"code": "late"}]},
    {"nip": "198503302010011001", "name": 'Made "Dek" Sudarma, S.Kom', "local_date": "2025-03-03",
     "kind": "out", "local_time": "16:02:00", "decision": "accepted",
     "reason_codes": ["on_time"], "unknown_key": "ignored"},
    {"nip": "198503302010011001", "name": "=HYPERLINK(\"http://x\")", "local_date": "2025-03-03",
     "kind": "in", "local_time": "07:20:00", "decision": "flagged", "accuracy_m": None},
]


class TestExport:
    def test_csv_is_rfc4180_with_header_sorted_rows_and_stable_columns(self):
        # Given three records in no particular order, When exported
        data = records_to_csv(ROWS)
        # Then CRLF lines, a header in CSV_COLUMNS order, rows by NIP then time
        assert data.startswith(b"nip,name,office_id,local_date,kind,local_time,")
        assert b"\r\n" in data and data.endswith(b"\r\n")
        table = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
        assert list(table[0]) == CSV_COLUMNS
        assert [(r["nip"], r["local_time"]) for r in table] == [
            ("198503302010011001", "07:20:00"), ("198503302010011001", "16:02:00"),
            ("199001152015032002", "07:45:10")]
        assert table[1]["name"] == 'Made "Dek" Sudarma, S.Kom'  # quoted and doubled on disk
        assert table[2]["reason_codes"] == "face_match;late"
        assert table[2]["distance_m"] == "12.35" and table[0]["accuracy_m"] == ""

    def test_spreadsheet_formulas_are_neutralised(self):
        table = list(csv.DictReader(io.StringIO(records_to_csv(ROWS).decode(), newline="")))
        assert table[0]["name"].startswith("'=")

    def test_same_rows_in_any_order_give_the_same_bytes(self):
        assert records_to_csv(ROWS) == records_to_csv(list(reversed(ROWS)))

    def test_empty_export_is_just_the_header(self):
        assert records_to_csv([]) == (",".join(CSV_COLUMNS) + "\r\n").encode()

    def test_manifest_proves_the_file(self):
        data = records_to_csv(ROWS)
        m = manifest(data, ROWS, date=date(2025, 3, 3), agency_id="pemkot-denpasar",
                     generated_at=datetime(2025, 3, 3, 12, 0, tzinfo=UTC))
        assert m["rows"] == 3 and m["schema_version"] == EXPORT_SCHEMA_VERSION == "1"
        assert m["sha256"] == hashlib.sha256(data).hexdigest()
        assert m["columns"] == CSV_COLUMNS and m["date"] == "2025-03-03"
        assert m["generated_at"] == "2025-03-03T12:00:00+00:00"

    def test_manifest_refuses_a_wrong_row_count(self):
        with pytest.raises(ValueError):
            manifest(records_to_csv(ROWS), 2, date="2025-03-03", agency_id="a",
                     generated_at="2025-03-03T12:00:00Z")

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.fixed_dictionaries({
        "nip": st.text(alphabet="0123456789", min_size=18, max_size=18),
        "name": st.text(max_size=30),
        "local_time": st.times().map(lambda t: t.strftime("%H:%M:%S")),
        "late_minutes": st.integers(0, 600)}), max_size=20))
    def test_any_rows_round_trip_through_the_csv(self, rows):
        # Given arbitrary names (quotes, commas, newlines, non-Latin text), When exported and
        # read back, Then every row is there, sorted, and the manifest counts them
        data = records_to_csv(rows)
        back = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
        assert len(back) == len(rows) == manifest(data, rows, date="2025-03-03", agency_id="a",
                                                  generated_at="x")["rows"]
        keys = [(r["nip"], r["local_time"]) for r in back]
        assert keys == sorted(keys)
        assert sorted(r["name"] for r in back) == sorted(guarded(r["name"]) for r in rows)


def guarded(text):
    """What the export promises for text: a leading ' before = + - @ tab or CR."""
    return "'" + text if text.startswith(tuple("=+-@\t\r")) else text


AUDIT = [
    {"entry_id": "2025-03-03T02:00:00.000+00:00#02", "at": "2025-03-03T02:00:00.000+00:00",
     "subject": "office#kantor-denpasar", "action": "office_replaced", "actor": "admin",
     "details": {}, "before": {"work_mode": "WFO"}, "after": {"work_mode": "WFA"}},
    {"entry_id": "2025-03-03T01:00:00.000+00:00#01", "at": "2025-03-03T01:00:00.000+00:00",
     "subject": "employee#199001152015032002", "action": "employee_updated", "actor": "admin",
     "details": {"changed": ["name"], "password_set": False}, "before": {"name": "=cmd|' /C calc'!A0"},
     "after": {"name": "Ni Luh, \"Ayu\"\nS.Kom"}},
    {"entry_id": "2025-03-03T01:00:00.000+00:00#00", "at": "2025-03-03T01:00:00.000+00:00",
     "subject": "export#2025-03-02", "action": "export_written", "actor": "scheduler",
     "details": {"rows": 3}, "before": None, "after": {"files": {"a/records.csv": "ab"}}},
]


class TestAuditExport:
    def test_audit_csv_has_its_columns_rows_by_instant_then_id_and_json_cells(self):
        from chalicelib.policy.export import AUDIT_COLUMNS, audit_to_csv
        # Given entries in no order, When exported
        data = audit_to_csv(AUDIT)
        table = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
        # Then by instant, then entry id; objects as compact sorted JSON, null as empty
        assert list(table[0]) == AUDIT_COLUMNS
        assert [r["entry_id"][-2:] for r in table] == ["00", "01", "02"]
        assert table[0]["before"] == "" and table[0]["after"] == '{"files":{"a/records.csv":"ab"}}'
        assert table[1]["after"] == '{"name":"Ni Luh, \\"Ayu\\"\\nS.Kom"}'  # JSON escapes the newline
        assert table[2]["details"] == "{}"
        assert audit_to_csv(AUDIT) == audit_to_csv(list(reversed(AUDIT)))
        assert audit_to_csv([]) == (",".join(AUDIT_COLUMNS) + "\r\n").encode()

    def test_the_audit_part_of_the_manifest_proves_its_own_file(self):
        from chalicelib.policy.export import audit_manifest, audit_to_csv, audit_window
        from zoneinfo import ZoneInfo
        data = audit_to_csv(AUDIT)
        window = audit_window(date(2025, 3, 3), ZoneInfo("Asia/Jakarta"))
        part = audit_manifest(data, 3, window=window)
        assert (part["file"], part["rows"], part["bytes"]) == ("audit.csv", 3, len(data))
        assert part["sha256"] == hashlib.sha256(data).hexdigest()
        assert (part["from"], part["to"]) == ("2025-03-03T00:00:00+07:00", "2025-03-04T00:00:00+07:00")
        with pytest.raises(ValueError):
            audit_manifest(data, 2, window=window)
        # And the attendance manifest keeps its own fields and carries the audit part beside them
        m = manifest(records_to_csv(ROWS), ROWS, date="2025-03-03", agency_id="a", generated_at="x", audit=part)
        assert m["sha256"] == hashlib.sha256(records_to_csv(ROWS)).hexdigest() and m["rows"] == 3
        assert m["audit"] == part
        assert "audit" not in manifest(records_to_csv(ROWS), ROWS, date="2025-03-03", agency_id="a",
                                       generated_at="x")

    def test_consecutive_audit_windows_meet_without_a_gap_or_overlap(self):
        from chalicelib.policy.export import audit_window
        from zoneinfo import ZoneInfo
        tz = ZoneInfo("Asia/Jakarta")
        first, second = audit_window(date(2025, 3, 3), tz), audit_window(date(2025, 3, 4), tz)
        assert first[1] == second[0]
        assert first[0].astimezone(UTC) == datetime(2025, 3, 2, 17, tzinfo=UTC)
