"""The monthly recap's read path (services/recap_input.py): the month's days by key for blocks
of employees, the excuses in one query, and the year's earlier months from their complete recap
runs (else from the day records)."""
from datetime import date, datetime

import pytest

from chalicelib.common.clock import FixedClock
from chalicelib.common.settings import load_settings
from chalicelib.policy.day import absent_day
from chalicelib.services import recap_input
from chalicelib.services.recap import compute, recap_prefix, write_recap
from chalicelib.services.records import DayRecord, Employee, Office
from chalicelib.wiring import in_memory
from tests.fakes import FakeEngine

# the recap walks each office's staff (services/units.agency_staff): everyone is in one
DENPASAR = Office(office_id="denpasar", name="Denpasar", timezone="Asia/Makassar",
                  geofence={"type": "circle", "lat": -8.65, "lon": 115.22, "radius_m": 150},
                  rules={"timezone": "Asia/Makassar"})
MADE = Employee(nip="198805052012121002", name="Made", unit="Bidang Umum", email=None, office_ids=["denpasar"])
AYU = Employee(nip="199001012015032001", name="Ayu", unit="Bidang Umum", email=None, office_ids=["denpasar"])


@pytest.fixture
def svc():
    settings = load_settings({"HADIR_STAGE": "test", "HADIR_AGENCY_ID": "pemkab-demo",
                              "HADIR_SES_SENDER": "hadir@example.go.id"})
    s = in_memory(settings, clock=FixedClock(datetime.fromisoformat("2026-02-02T09:00:00+08:00")),
                  face_engine_provider=FakeEngine)
    s.records.put_office(DENPASAR, "2026-01-01T00:00:00Z", actor="admin")
    for e in (MADE, AYU):
        s.records.put_employee(e, "2026-01-01T00:00:00Z", actor="admin")
    return s


def absent_on(svc, nip: str, *days: str) -> None:
    for d in days:
        svc.records.mark_absent(DayRecord(nip=nip, date=d, day=absent_day(
            "kantor-bupati", [{"code": "no_checkin", "message": "no check-in"}])), "2026-01-31T00:00:00Z")


def by_nip(recaps):
    return {r.nip: r for r in recaps}


def test_the_year_to_date_count_takes_january_from_its_recap_and_february_from_the_records(svc):
    # Given Made absent on 5 and 6 January and January's recap produced once the month was over
    absent_on(svc, MADE.nip, "2026-01-05", "2026-01-06")
    write_recap(svc, "2026-01", "admin")
    # And, after that recap, one more January absence and one in February
    absent_on(svc, MADE.nip, "2026-01-07", "2026-02-03")
    svc.clock.set(datetime.fromisoformat("2026-03-02T09:00:00+08:00"))
    # When February is recapped
    made = by_nip(compute(svc, date(2026, 2, 1), date(2026, 2, 28)))[MADE.nip]
    # Then January counts as its recap reported it (2), February from its days (1)
    assert made.absent_year_to_date == 3
    assert made.absent_dates == ("2026-01-05", "2026-01-06", "2026-02-03")
    # And the earlier months read: January from its run, no day to read for it
    earlier = recap_input.earlier_absences(svc, date(2026, 2, 1), lambda m: recap_prefix(svc, m))
    assert earlier.from_recaps == ("2026-01",) and earlier.unread == ()
    assert earlier.absent == {MADE.nip: ("2026-01-05", "2026-01-06")}


def test_without_a_complete_recap_the_earlier_month_is_read_from_the_records(svc):
    # Given January's recap made mid-month (through 14 January only) and Made absent on 5 and 20 January
    absent_on(svc, MADE.nip, "2026-01-05", "2026-01-20")
    svc.clock.set(datetime.fromisoformat("2026-01-15T09:00:00+08:00"))
    write_recap(svc, "2026-01", "admin")
    svc.clock.set(datetime.fromisoformat("2026-03-02T09:00:00+08:00"))
    # When February is recapped
    recaps = by_nip(compute(svc, date(2026, 2, 1), date(2026, 2, 28)))
    # Then January's days come from the records: both absences count; Ayu has none
    assert recaps[MADE.nip].absent_year_to_date == 2 and recaps[AYU.nip].absent_year_to_date == 0
    earlier = recap_input.earlier_absences(svc, date(2026, 2, 1), lambda m: recap_prefix(svc, m))
    assert earlier.from_recaps == () and earlier.unread[0] == date(2026, 1, 2) and len(earlier.unread) == 20


def test_days_are_read_in_blocks_of_employees_each_with_its_own_days(svc, monkeypatch):
    # Given blocks of one employee, and Ayu and Made absent on different February days
    monkeypatch.setattr(recap_input, "BLOCK", 1)
    asked: list[list[str]] = []
    days_of = svc.records.days_of
    monkeypatch.setattr(svc.records, "days_of", lambda nips, dates: asked.append(list(nips)) or days_of(nips, dates))
    absent_on(svc, AYU.nip, "2026-02-03")
    absent_on(svc, MADE.nip, "2026-02-04", "2026-02-05")
    svc.clock.set(datetime.fromisoformat("2026-03-02T09:00:00+08:00"))
    # When February is recapped
    recaps = by_nip(compute(svc, date(2026, 2, 1), date(2026, 2, 28)))
    # Then one read per block, by NIP, and each employee got only their own days
    assert asked == [[MADE.nip], [AYU.nip]]
    assert recaps[AYU.nip].absent_dates == ("2026-02-03",)
    assert recaps[MADE.nip].absent_dates == ("2026-02-04", "2026-02-05")
