"""PP 94/2021 notices from the monthly recap: one per employee, threshold and year, never again."""
from datetime import date, datetime, timedelta

import pytest

from chalicelib.common.clock import FixedClock
from chalicelib.common.settings import load_settings
from chalicelib.policy.calendar import WorkCalendar
from chalicelib.policy.day import absent_day
from chalicelib.services import discipline, notices
from chalicelib.services.recap import write_recap
from chalicelib.services.records import DayRecord, Employee
from chalicelib.wiring import in_memory
from tests.fakes import FakeEngine
from tests.services.test_recap_input import DENPASAR

MADE = Employee(nip="198805052012121002", name="Made", unit="Bidang Umum", email=None,
                office_ids=[DENPASAR.office_id])  # the recap walks each office's staff


@pytest.fixture
def svc():
    settings = load_settings({"HADIR_STAGE": "test", "HADIR_AGENCY_ID": "pemkab-demo",
                              "HADIR_SES_SENDER": "hadir@example.go.id",
                              "HADIR_PERSONNEL_EMAIL": "bkpsdm@example.go.id",
                              "HADIR_DISCIPLINE_THRESHOLDS": "5,10,15,20,28"})
    s = in_memory(settings, clock=FixedClock(datetime.fromisoformat("2026-02-02T09:00:00+08:00")),
                  face_engine_provider=FakeEngine)
    s.records.put_office(DENPASAR, "2026-01-01T00:00:00Z", actor="admin")
    s.records.put_employee(MADE, "2026-01-01T00:00:00Z", actor="admin")
    return s


def absent_on(svc, *days: date) -> None:
    for d in days:
        svc.records.mark_absent(DayRecord(nip=MADE.nip, date=d.isoformat(), day=absent_day(
            "kantor-bupati", [{"code": "no_checkin", "message": "no check-in"}])), "2026-01-31T00:00:00Z")


def weekdays(start: date, n: int) -> list[date]:
    """The first ``n`` working days from ``start`` (the calendar's: 16 January 2026 is a holiday)."""
    return WorkCalendar().working_days(start, start + timedelta(days=3 * n))[:n]


def discipline_notices(svc):
    return [p["notice"] for p in svc.notifier.published if p["kind"] == notices.DISCIPLINE]


def test_crossing_five_sends_one_notice_a_second_run_none_and_crossing_ten_one_more(svc):
    # Given Made absent without notice on 6 working days of January
    january = weekdays(date(2026, 1, 5), 11)
    absent_on(svc, *january[:6])
    # When January's recap is produced
    run = write_recap(svc, "2026-01", "admin")
    # Then the personnel agency gets one notice: threshold 5, the count, the level and the days
    [notice] = discipline_notices(svc)
    assert (run.discipline_notices, notice["nip"], notice["threshold"], notice["count"]) == (1, MADE.nip, 5, 6)
    assert notice["level"] == "written_warning" and notice["regulation"] == "PP 94/2021"
    assert [r["date"] for r in notice["reasons"]] == [d.isoformat() for d in january[:6]]
    assert notice["personnel_email"] == "bkpsdm@example.go.id"
    # And it is audited with the count, the threshold and the days as reasons
    [entry] = [e for e in svc.records.audit_trail(MADE.nip) if e.action == discipline.ACTION]
    assert (entry.details["threshold"], entry.details["count"], len(entry.details["reasons"])) == (5, 6, 6)
    # When the recap runs again: no second notice
    assert write_recap(svc, "2026-01", "admin").discipline_notices == 0
    assert len(discipline_notices(svc)) == 1
    # When later absences bring the count to 11: one more notice, for 10 (and, the 11 days being
    # consecutive, the consecutive-days notice)
    absent_on(svc, *january[6:])
    assert write_recap(svc, "2026-01", "admin").discipline_notices == 2
    thresholds = [n for n in discipline_notices(svc) if n.get("rule") is None]
    assert [n["threshold"] for n in thresholds] == [5, 10]
    assert thresholds[-1]["level"] == "allowance_cut_25pct_6_months"


def test_below_the_first_threshold_nothing_is_sent(svc):
    absent_on(svc, *weekdays(date(2026, 1, 5), 4))
    assert write_recap(svc, "2026-01", "admin").discipline_notices == 0
    assert discipline_notices(svc) == []


def test_the_notice_is_emailed_to_the_personnel_agency_once(svc):
    absent_on(svc, *weekdays(date(2026, 1, 5), 5))
    write_recap(svc, "2026-01", "admin")
    [notice] = discipline_notices(svc)
    assert notices.send_email(svc, notice) and not notices.send_email(svc, notice)
    [mail] = svc.notifier.sent
    assert mail["to"] == "bkpsdm@example.go.id" and "5 days" in mail["body"] and MADE.nip in mail["subject"]


def test_a_failed_publish_releases_the_threshold_for_the_next_run(svc, monkeypatch):
    absent_on(svc, *weekdays(date(2026, 1, 5), 5))

    def broken(notice, subject):
        raise RuntimeError("topic down")
    monkeypatch.setattr(svc.notifier, "publish", broken)
    with pytest.raises(RuntimeError):
        write_recap(svc, "2026-01", "admin")
    monkeypatch.undo()
    assert write_recap(svc, "2026-01", "admin").discipline_notices == 1


def test_the_thresholds_are_configurable():
    s = load_settings({"HADIR_STAGE": "test", "HADIR_DISCIPLINE_THRESHOLDS": "3, 7,11"})
    assert s.discipline_thresholds == (3, 7, 11)
    # by default, every graduated level of PP 94/2021 as the domain doc gives them
    from chalicelib.policy.recap import DISCIPLINE_LEVELS
    assert load_settings({"HADIR_STAGE": "test"}).discipline_thresholds == tuple(n for n, _ in DISCIPLINE_LEVELS)


def consecutive_notices(svc):
    return [n for n in discipline_notices(svc) if n.get("rule") == discipline.CONSECUTIVE]


def test_ten_consecutive_working_days_across_a_month_are_told_once(svc):
    # Given no count thresholds, and Made absent 23 January .. 5 February 2026 (10 working days:
    # the weekends between neither break nor count)
    svc.settings = svc.settings.model_copy(update={"discipline_thresholds": ()})
    run = weekdays(date(2026, 1, 23), 10)
    assert run[-1] == date(2026, 2, 5)
    absent_on(svc, *run)
    svc.clock = FixedClock(datetime.fromisoformat("2026-02-09T09:00:00+08:00"))
    # When January's recap is produced: only 7 of them, no notice
    assert write_recap(svc, "2026-01", "admin").discipline_notices == 0
    # When February's is: one notice, level dismissal, every date of the run as its reasons
    assert write_recap(svc, "2026-02", "admin").discipline_notices == 1
    [notice] = consecutive_notices(svc)
    assert (notice["count"], notice["threshold"], notice["level"]) == (10, 10, "dismissal")
    assert [r["date"] for r in notice["reasons"]] == [d.isoformat() for d in run]
    [entry] = [e for e in svc.records.audit_trail(MADE.nip) if e.action == discipline.CONSECUTIVE_ACTION]
    assert entry.details["count"] == 10 and entry.details["reasons"][0]["date"] == "2026-01-23"
    # When the run grows and the recap runs again: not told again
    absent_on(svc, date(2026, 2, 6))
    assert write_recap(svc, "2026-02", "admin").discipline_notices == 0
    assert len(consecutive_notices(svc)) == 1


def test_a_run_from_december_is_seen_in_january(svc):
    svc.settings = svc.settings.model_copy(update={"discipline_thresholds": ()})
    run = weekdays(date(2025, 12, 17), 12)  # 25, 26 Dec (Natal, cuti bersama) and 1 Jan are skipped
    assert run[0].year == 2025 and run[-1].year == 2026
    absent_on(svc, *run)
    svc.clock = FixedClock(datetime.fromisoformat("2026-02-09T09:00:00+08:00"))
    assert write_recap(svc, "2026-01", "admin").discipline_notices == 1
    [notice] = consecutive_notices(svc)
    assert notice["reasons"][0]["date"] == run[0].isoformat() and notice["count"] == 12
