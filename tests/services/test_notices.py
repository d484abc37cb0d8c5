"""Employee notices: published once per decision and e-mailed when the employee has an address."""
from datetime import datetime

import pytest

from chalicelib.common.clock import FixedClock
from chalicelib.common.settings import load_settings
from chalicelib.services import notices
from chalicelib.services.records import Employee
from chalicelib.wiring import in_memory
from tests.fakes import FakeEngine


@pytest.fixture
def svc():
    settings = load_settings({"HADIR_STAGE": "test", "HADIR_AGENCY_ID": "pemkab-demo",
                              "HADIR_SES_SENDER": "hadir@example.go.id"})
    return in_memory(settings, clock=FixedClock(datetime.fromisoformat("2026-03-03T09:00:00+08:00")),
                     face_engine_provider=FakeEngine)


AYU = Employee(nip="199001012015032001", name="Ayu", email="ayu@example.go.id")


def test_a_decision_is_published_once_and_emailed_to_the_employee(svc):
    # Given a decision on Ayu's request
    # When she is told twice about the same decision
    first = notices.tell_employee(svc, AYU, "request_decided", "rq_1", "Your leave was approved",
                                  {"status": "approved"})
    again = notices.tell_employee(svc, AYU, "request_decided", "rq_1", "Your leave was approved")
    # Then one notice is published, for her, with the reference and the details
    assert (first, again) == (True, False)
    [published] = svc.notifier.published
    notice = published["notice"]
    assert published["kind"] == notices.EMPLOYEE
    assert (notice["nip"], notice["ref"], notice["details"]) == (AYU.nip, "rq_1", {"status": "approved"})
    # And it is kept for her to read in the app, once
    [kept] = notices.my_notifications(svc, AYU.nip, 10).items
    assert (kept.topic, kept.ref, kept.message) == ("request_decided", "rq_1", "Your leave was approved")
    # And the e-mail step sends it to her address, once
    assert notices.send_email(svc, notice) is True
    assert notices.send_email(svc, notice) is False
    [mail] = svc.notifier.sent
    assert mail["to"] == "ayu@example.go.id" and "rq_1" in mail["body"]


def test_an_employee_without_an_address_gets_no_email(svc):
    notices.tell_employee(svc, AYU.model_copy(update={"email": None}), "review_decided", "ci_1", "Reviewed")
    assert notices.send_email(svc, svc.notifier.published[0]["notice"]) is False
    assert svc.notifier.sent == []
