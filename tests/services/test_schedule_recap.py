"""The recap counts each employee's working days by their effective schedule (services/recap.py
``compute`` through services/schedules.py), in memory."""
from datetime import date

import pytest

from chalicelib.services import recap, schedules
from tests.api.helpers import AYU, KETUT, MADE
from tests.fakes import seeded_services

GURU = {"id": "guru", "name": "Guru", "applies_to": {"groups": ["guru"]}, "weekdays": [0, 1, 2, 3, 4, 5]}


@pytest.fixture
def svc():
    services = seeded_services("2026-05-02T12:00:00+08:00")
    return services


def test_a_teachers_recap_counts_saturdays_and_a_bali_office_its_regional_holiday(svc):
    # Given Ayu is a teacher (six-day week), and Denpasar (Bali, 51) has a regional holiday on 8 April
    svc.records.put_agency_config("schedules", {"schedules": [GURU]}, None, "admin", svc.now_iso())
    svc.records.put_employee(svc.records.get_employee(AYU).model_copy(update={"group": "guru"}), svc.now_iso())
    svc.records.put_office(svc.records.get_office("kantor-denpasar").model_copy(update={"province": "51"}),
                           svc.now_iso())
    cal = {"years": {"2026": {"regional_holidays": {"51": [{"date": "2026-04-08", "name": "Galungan"}]}}}}
    svc.records.put_agency_config("calendar", cal, None, "admin", svc.now_iso())
    svc.policy_cache.forget("schedules"), svc.policy_cache.forget("calendar")
    # When April 2026 is recapped
    by_nip = {r.nip: r for r in recap.compute(svc, date(2026, 4, 1), date(2026, 4, 30))}
    # Then the agency calendar's April has 21 working days (22 weekdays less Good Friday, 3 April);
    # Made and Ketut (Bali) lose the regional holiday: 20; Ayu adds four Saturdays: 24
    assert len(svc.calendar.working_days(date(2026, 4, 1), date(2026, 4, 30))) == 21
    assert (by_nip[MADE].working_days, by_nip[KETUT].working_days, by_nip[AYU].working_days) == (20, 20, 24)
    # And the working days come from the one place the check-in uses
    office = svc.records.get_office("kantor-denpasar")
    assert len(schedules.working_days(svc, svc.records.get_employee(AYU), office,
                                      date(2026, 4, 1), date(2026, 4, 30))) == 24
