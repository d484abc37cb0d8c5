"""One suite for both ``AttendanceRecords`` adapters: DynamoDB (in moto) and in memory.

Each test runs twice; whatever one adapter does, the other must do too.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator

import boto3
import pytest
from moto import mock_aws

from chalicelib.adapters.memory.records import InMemoryRecords
from chalicelib.adapters.storage.models import EmployeeModel
from chalicelib.adapters.storage.records import DynamoRecords
from chalicelib.common.errors import Conflict, NotFound
from chalicelib.common.settings import Settings, get_settings, reset_settings
from chalicelib.policy.day import Day, absent_day
from chalicelib.services.ports import AttendanceRecords
from chalicelib.services.records import PublishedRoster
from chalicelib.services.records import (Attachment, RequestLedger, AuditCursor, AuditEntry, CheckinRecord, DayRecord, Employee,
                                         FaceEvidence, GeoEvidence, Notification, Office, PersonalSite,
                                         PositionEvidence, RequestDecision, RequestRecord, Review,
                                         RecentAttempt, RecentAttempts, SealedTemplate, UploadSession)

AYU, BUDI, SUP = "199001012015032001", "198805052012121002", "197503032000031003"
DATE = "2026-03-03"
T0 = "2026-03-03T00:00:00.000+00:00"
T1 = "2026-03-03T01:00:00.000+00:00"
T2 = "2026-03-03T02:00:00.000+00:00"
EXPIRES = datetime(2026, 3, 3, 0, 2, tzinfo=timezone.utc)


@dataclass
class Backend:
    records: AttendanceRecords
    created_at: Callable[[str], str | None]  # not on Employee: each backend reads it its own way


@functools.cache
def _client(service: str, region: str) -> object:
    """One boto3 client per service for the whole run (mock_aws intercepts them all)."""
    return boto3.client(service, region_name=region)


@pytest.fixture(scope="module")
def dynamo() -> Iterator[tuple[DynamoRecords, Settings]]:
    """Every resource of the test stage in moto's in-process mock, created once for the module
    (as ``aws_env`` does, without wiring the services), and the adapter over its tables."""
    from local.bootstrap import create_all
    region = get_settings().region
    with mock_aws(), pytest.MonkeyPatch.context() as mp:
        for name, value in create_all(lambda service: _client(service, region), "test").items():
            mp.setenv(name, value)
        reset_settings()
        settings = get_settings()
        yield DynamoRecords(settings), settings
    reset_settings()


def _empty_tables(settings: Settings) -> None:
    """Each test starts from empty tables: emptied in moto's own store (moto 5, pinned in
    requirements-dev.txt), as scanning and deleting through the API costs more than the tests."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][settings.region].tables
    for name in settings.tables.values():
        tables[name].items.clear()


@pytest.fixture(params=["memory", "dynamodb"])
def backend(request) -> Backend:
    if request.param == "memory":
        mem = InMemoryRecords()
        return Backend(mem, mem.created_at)
    records, settings = request.getfixturevalue("dynamo")
    _empty_tables(settings)
    return Backend(records, lambda nip: EmployeeModel.get(nip).created_at)


@pytest.fixture
def records(backend: Backend) -> AttendanceRecords:
    return backend.records


# --- builders ------------------------------------------------------------------------------------
def office(office_id: str = "kanwil-bali", **kw) -> Office:
    return Office(**{"office_id": office_id, "name": "Kanwil Bali", "timezone": "Asia/Makassar",
                     "geofence": {"type": "circle", "lat": -8.65, "lon": 115.22, "radius_m": 150},
                     "rules": {"work_start": "07:30", "grace_minutes": 0}, **kw})


def employee(nip: str = AYU, **kw) -> Employee:
    return Employee(**{"nip": nip, "name": "Ayu Lestari", "office_ids": ["kanwil-bali"],
                       "supervisor_nip": SUP, "roles": ["employee"], **kw})


def session(session_id: str = "s1", nip: str = AYU, purpose: str = "checkin") -> UploadSession:
    return UploadSession(session_id=session_id, nip=nip, purpose=purpose, nonce="n-" + session_id,
                         keys=[f"uploads/{nip}/{session_id}/0"], expires_at="2026-03-03T00:02:00.000+00:00")


def sealed(model_version: str = "toy-v1") -> SealedTemplate:
    return SealedTemplate(ciphertext=b"\x00\xffcipher", encrypted_key=b"\x01key", nonce=b"\x02" * 12,
                          key_id="alias/test-templates", model_version=model_version)


def attempt(checkin_id: str = "c1", nip: str = AYU, at: str = T0, kind: str = "in",
            decision: str = "accepted", local_date: str = DATE) -> CheckinRecord:
    return CheckinRecord(
        checkin_id=checkin_id, record_id=checkin_id, nip=nip, name="Ayu Lestari", office_id="kanwil-bali",
        at=at, decision=decision, kind=kind, local_date=local_date, local_time="08:00:00",
        timezone="Asia/Makassar", work_mode="WFO", late_minutes=30, tier="TL1",
        reasons=[{"code": "late", "effect": "info", "minutes": 30}],
        face=FaceEvidence(score=0.81, threshold=0.5, decision="match", model_version="toy-v1"),
        geo=GeoEvidence(status="inside", site_id="kanwil-bali", distance_m=12.5, accuracy_m=8.0),
        position=PositionEvidence(lat=-8.65, lon=115.22, captured_at=at))


def day(nip: str = AYU, date: str = DATE, status: str = "late", version: int | None = None,
        checkin_ids: tuple[str, ...] = ("c1",)) -> DayRecord:
    return DayRecord(nip=nip, date=date, version=version, name="Ayu Lestari", day=Day(
        status=status, office_id="kanwil-bali", first_in="08:00:00", late_minutes=30, tier="TL1",
        checkin_ids=checkin_ids, reasons=({"code": "late", "minutes": 30, "checkin_id": checkin_ids[0]},)))


def given_enrolled(records: AttendanceRecords, nip: str = AYU) -> None:
    records.put_employee(employee(nip), T0)
    records.put_session(session("enrol-" + nip, nip, "enrolment"), EXPIRES)
    records.enrol(nip, sealed(), "enrol-" + nip, T0, consent_notice="v1")


def actions(records: AttendanceRecords, nip: str = AYU) -> list[str]:
    return [a.action for a in records.audit_trail(nip)]


# --- offices -------------------------------------------------------------------------------------
def test_offices_are_put_read_and_listed_by_id(records):
    # Given two offices, one of them updated
    records.put_office(office("kanwil-ntb", name="Kanwil NTB"), T0)
    records.put_office(office(), T0)
    records.put_office(office(work_mode="WFA"), T1)
    # Then
    assert records.get_office("kanwil-bali") == office(work_mode="WFA")
    assert records.get_office("nowhere") is None
    assert [o.office_id for o in records.offices()] == ["kanwil-bali", "kanwil-ntb"]


def test_an_office_province_and_an_employee_group_are_kept(records):
    # Given an office in Bali (51) and a teacher working there
    records.put_office(office(province="51"), T0)
    records.put_employee(employee(group="guru"), T0)
    # Then both read back, and clearing them clears them
    assert records.get_office("kanwil-bali").province == "51"
    assert records.get_employee(AYU).group == "guru"
    records.put_office(office(), T1)
    records.put_employee(employee(), T1)
    assert (records.get_office("kanwil-bali").province, records.get_employee(AYU).group) == (None, None)


def test_an_employee_echelon_is_kept_and_cleared(records):
    # Given a head of division (eselon III.a)
    records.put_employee(employee(echelon="III.a"), T0)
    assert records.get_employee(AYU).echelon == "III.a"
    # When re-imported without one, Then it is cleared
    records.put_employee(employee(), T1)
    assert records.get_employee(AYU).echelon is None


# --- employees -----------------------------------------------------------------------------------
def test_employee_upsert_keeps_enrolment_and_created_at(backend):
    records = backend.records
    given_enrolled(records)
    enrolled_at = records.get_employee(AYU).enrolled_at
    # When the directory import runs again with new details (and claims no enrolment)
    records.put_employee(employee(name="Ayu L.", unit="Umum", roles=["supervisor", "employee",
                                                                     "employee"], enrolled=False), T2)
    # Then the details changed, the enrolment and the creation time did not
    e = records.get_employee(AYU)
    assert (e.name, e.unit, e.roles) == ("Ayu L.", "Umum", ["employee", "supervisor"])
    assert e.enrolled and e.enrolled_at == enrolled_at == T0
    assert backend.created_at(AYU) == T0


def test_a_new_employee_is_not_enrolled_whatever_the_record_says(records):
    records.put_employee(employee(enrolled=True, enrolled_at=T0, supervisor_nip=""), T0)
    e = records.get_employee(AYU)
    assert not e.enrolled and e.enrolled_at is None and e.supervisor_nip is None
    assert records.get_employee(BUDI) is None


def test_staff_of_lists_a_supervisors_staff_by_nip(records):
    # Given two staff of SUP and the supervisor herself (no supervisor)
    records.put_employee(employee(AYU), T0)
    records.put_employee(employee(BUDI, name="Budi"), T0)
    records.put_employee(employee(SUP, name="Sari", supervisor_nip=None), T0)
    # Then
    assert [e.nip for e in records.staff_of(SUP)] == [BUDI, AYU]
    assert records.staff_of(AYU) == []
    assert [e.nip for e in records.employees()] == sorted([AYU, BUDI, SUP])


# --- enrolment -----------------------------------------------------------------------------------
def test_enrol_stores_the_template_marks_enrolled_uses_the_session_and_audits_consent(records):
    given_enrolled(records)
    assert records.sealed_template(AYU) == sealed()
    assert records.get_employee(AYU).enrolled
    assert records.get_session("enrol-" + AYU).used
    created, consent = records.audit_trail(AYU)
    assert created.action == "employee_created"
    assert (consent.subject, consent.at, consent.action, consent.actor, consent.details) == (
        f"employee#{AYU}", T0, "biometric_consent_given", AYU,
        {"notice_version": "v1", "model_version": "toy-v1", "device_id": None})
    assert (consent.before, consent.after) == (
        {"enrolled": False}, {"enrolled": True, "enrolled_at": T0, "device_id": None})


def test_enrolling_twice_is_already_enrolled_and_writes_nothing(records):
    given_enrolled(records)
    records.put_session(session("again", purpose="enrolment"), EXPIRES)
    # When
    with pytest.raises(Conflict) as err:
        records.enrol(AYU, sealed("other-v2"), "again", T1, consent_notice="v2")
    # Then
    assert err.value.code == "already_enrolled"
    assert records.sealed_template(AYU).model_version == "toy-v1"
    assert not records.get_session("again").used
    assert actions(records) == ["employee_created", "biometric_consent_given"]


def test_enrolling_with_a_used_session_is_session_used_and_writes_nothing(records):
    records.put_employee(employee(), T0)
    records.put_session(session("used", purpose="enrolment"), EXPIRES)
    records.record_checkin(attempt(decision="rejected"), None, "used", T0)  # uses it
    # When
    with pytest.raises(Conflict) as err:
        records.enrol(AYU, sealed(), "used", T1, consent_notice="v1")
    # Then
    assert err.value.code == "session_used"
    assert records.sealed_template(AYU) is None and not records.get_employee(AYU).enrolled
    assert actions(records) == ["employee_created"]


def test_enrolling_an_unknown_employee_or_with_an_unknown_session(records):
    records.put_session(session("s", purpose="enrolment"), EXPIRES)
    with pytest.raises(NotFound) as err:
        records.enrol(AYU, sealed(), "s", T0, consent_notice="v1")
    assert err.value.code == "employee_not_found"
    records.put_employee(employee(), T0)
    with pytest.raises(Conflict) as err:
        records.enrol(AYU, sealed(), "no-such-session", T0, consent_notice="v1")
    assert err.value.code == "session_used"
    assert records.sealed_template(AYU) is None


def test_reset_enrolment_deletes_the_template_and_audits_who(records):
    given_enrolled(records)
    # When
    records.reset_enrolment(AYU, SUP, "new glasses", T1)
    # Then
    assert records.sealed_template(AYU) is None
    e = records.get_employee(AYU)
    assert not e.enrolled and e.enrolled_at is None
    reset = records.audit_trail(AYU)[-1]
    assert (reset.action, reset.actor, reset.at, reset.details) == (
        "enrolment_reset", SUP, T1, {"reason": "new glasses"})
    assert (reset.before, reset.after) == ({"enrolled": True, "enrolled_at": T0}, {"enrolled": False})
    # and a second reset has nothing to reset
    with pytest.raises(Conflict) as err:
        records.reset_enrolment(AYU, SUP, None, T2)
    assert err.value.code == "not_enrolled"
    assert actions(records) == ["employee_created", "biometric_consent_given", "enrolment_reset"]
    with pytest.raises(NotFound):
        records.reset_enrolment(BUDI, SUP, None, T2)


RENEWAL = {"template_model_version": "toy-v1", "engine_model_version": "toy-v2",
           "reasons": [{"code": "previous_model_match", "model_version": "toy-v1", "photo": 0,
                        "score": 3.1, "threshold": 2.7}]}


def test_reenrol_replaces_an_outdated_template_renews_the_enrolment_and_audits_both(records):
    given_enrolled(records)
    records.put_session(session("renew", purpose="enrolment"), EXPIRES)
    # When
    records.reenrol(AYU, sealed("toy-v2"), "toy-v1", "renew", T1, "v2", RENEWAL, device_id="phone-2",
                    pending=True)
    # Then
    assert records.sealed_template(AYU) == sealed("toy-v2")
    e = records.get_employee(AYU)
    assert e.enrolled and e.enrolled_at == T1 and e.device_id == "phone-2"
    assert e.enrolment_status == "pending_approval" and e.enrolment_id == "renew"
    assert records.get_session("renew").used
    new = {a.action: a for a in records.audit_trail(AYU)[2:]}
    assert set(new) == {"biometric_consent_given", "enrolment_renewed"}
    assert new["biometric_consent_given"].details == {"notice_version": "v2", "model_version": "toy-v2",
                                                      "device_id": "phone-2"}
    renewed = new["enrolment_renewed"]
    assert (renewed.actor, renewed.at, renewed.details) == (AYU, T1, RENEWAL)
    assert (renewed.before, renewed.after) == ({"model_version": "toy-v1", "enrolled_at": T0},
                                               {"model_version": "toy-v2", "enrolled_at": T1})
    assert records.template_versions() == {AYU: "toy-v2"}


def test_reenrol_over_another_version_or_with_a_used_session_writes_nothing(records):
    given_enrolled(records)
    records.put_session(session("renew", purpose="enrolment"), EXPIRES)
    # When the template is not of the version the re-enrolment replaces (renewed meanwhile)
    with pytest.raises(Conflict) as err:
        records.reenrol(AYU, sealed("toy-v3"), "toy-v2", "renew", T1, "v2", RENEWAL)
    assert err.value.code == "concurrent_update"
    # When the session is used
    with pytest.raises(Conflict) as err:
        records.reenrol(AYU, sealed("toy-v2"), "toy-v1", "enrol-" + AYU, T1, "v2", RENEWAL)
    assert err.value.code == "session_used"
    # Then nothing changed
    assert records.sealed_template(AYU) == sealed() and not records.get_session("renew").used
    assert records.get_employee(AYU).enrolled_at == T0
    assert actions(records) == ["employee_created", "biometric_consent_given"]


def test_reenrolling_someone_not_enrolled_is_refused(records):
    records.put_employee(employee(), T0)
    records.put_session(session("renew", purpose="enrolment"), EXPIRES)
    with pytest.raises(Conflict):
        records.reenrol(AYU, sealed("toy-v2"), "toy-v1", "renew", T1, "v2", RENEWAL)
    assert records.sealed_template(AYU) is None and not records.get_session("renew").used


def test_template_versions_name_every_template_by_nip(records):
    assert records.template_versions() == {}
    given_enrolled(records)
    given_enrolled(records, BUDI)
    assert records.template_versions() == {AYU: "toy-v1", BUDI: "toy-v1"}


# --- personal sites ------------------------------------------------------------------------------
def site(site_id: str = "home", **kw) -> PersonalSite:
    return PersonalSite(**{"nip": AYU, "site_id": site_id, "kind": "home", "work_mode": "WFH",
                           "geofence": {"type": "circle", "lat": -8.6, "lon": 115.2, "radius_m": 80},
                           "valid_from": "2026-03-01", "valid_to": "2026-03-31", **kw})


def test_sites_are_added_stamped_listed_by_id_and_audited(records):
    # When
    records.add_site(site("home"), SUP, T0)
    records.add_site(site("assignment-1", kind="assignment", work_mode="DL", valid_to=None), SUP, T1)
    # Then
    assert [s.site_id for s in records.sites_of(AYU)] == ["assignment-1", "home"]
    assert records.sites_of(AYU)[1] == site("home", created_by=SUP, created_at=T0)
    assert records.sites_of(BUDI) == []
    first = records.audit_trail(AYU)[0]
    assert (first.action, first.actor, first.details) == ("site_assigned", SUP, {
        "site_id": "home", "kind": "home", "work_mode": "WFH", "valid_from": "2026-03-01",
        "valid_to": "2026-03-31"})


def test_a_site_id_taken_is_site_exists_and_changes_nothing(records):
    records.add_site(site(), SUP, T0)
    with pytest.raises(Conflict) as err:
        records.add_site(site(note="other"), SUP, T1)
    assert (err.value.code, err.value.details) == ("site_exists", {"site_id": "home"})
    assert records.sites_of(AYU)[0].note is None
    assert actions(records) == ["site_assigned"]


def test_remove_site_returns_it_and_audits_a_missing_one_is_site_not_found(records):
    records.add_site(site(), SUP, T0)
    # When
    removed = records.remove_site(AYU, "home", SUP, T1)
    # Then
    assert removed == site(created_by=SUP, created_at=T0)
    assert records.sites_of(AYU) == []
    assert actions(records) == ["site_assigned", "site_removed"]
    assert records.audit_trail(AYU)[1].details["site_id"] == "home"
    with pytest.raises(NotFound) as err:
        records.remove_site(AYU, "home", SUP, T2)
    assert err.value.code == "site_not_found"
    assert actions(records) == ["site_assigned", "site_removed"]


# --- sessions ------------------------------------------------------------------------------------
def test_sessions_are_put_and_read_back_once_per_id(records):
    records.put_session(session("s1"), EXPIRES)
    assert records.get_session("s1") == session("s1")
    assert records.get_session("s2") is None
    with pytest.raises(Conflict) as err:
        records.put_session(session("s1", nip=BUDI), EXPIRES)
    assert err.value.code == "session_exists"
    assert records.get_session("s1").nip == AYU


# --- check-ins -----------------------------------------------------------------------------------
def test_record_checkin_writes_the_attempt_and_the_day_and_uses_the_session(records):
    records.put_session(session("s1"), EXPIRES)
    # When
    records.record_checkin(attempt("c1"), day(), "s1", T0)
    # Then
    assert records.checkins_between(AYU, DATE, DATE) == [attempt("c1")]
    stored = records.day(AYU, DATE)
    assert stored == day(version=1)
    assert stored.day.reasons[0]["checkin_id"] == "c1" and stored.name == "Ayu Lestari"
    used = records.get_session("s1")
    assert used.used and used.used_at == T0


def test_checkin_reads_returns_by_key_what_is_stored_and_none_for_the_rest(records):
    # Given Ayu enrolled, a check-in session and her day on DATE
    given_enrolled(records)
    records.put_session(session("s1"), EXPIRES)
    records.record_checkin(attempt("c1"), day(), "s1", T0)
    # When read in one go with the day before, which holds nothing
    read = records.checkin_reads(AYU, "s1", ["2026-03-02", DATE])
    # Then each is what its own read returns
    assert read.employee == records.get_employee(AYU) and read.session == records.get_session("s1")
    assert read.sealed == records.sealed_template(AYU) == sealed()
    assert read.days == {"2026-03-02": None, DATE: records.day(AYU, DATE)} and read.days[DATE].version == 1
    # And nothing for an unknown employee and session, no days asked, no days
    none = records.checkin_reads(BUDI, "nope", [])
    assert (none.employee, none.session, none.sealed, none.days) == (None, None, None, {})


def test_a_rejected_attempt_is_stored_without_a_day(records):
    records.put_session(session("s1"), EXPIRES)
    records.record_checkin(attempt("c1", decision="rejected"), None, "s1", T0)
    assert [c.decision for c in records.checkins_on(DATE)] == ["rejected"]
    assert records.day(AYU, DATE) is None and records.days_on(DATE) == []


def test_a_replayed_session_is_session_used_and_writes_nothing(records):
    records.put_session(session("s1"), EXPIRES)
    records.record_checkin(attempt("c1"), day(), "s1", T0)
    # When the same session comes again, even with a stale day
    for d in (day(version=1, checkin_ids=("c1", "c2")), day(version=None), None):
        with pytest.raises(Conflict) as err:
            records.record_checkin(attempt("c2", at=T1, kind="out"), d, "s1", T1)
        # Then
        assert err.value.code == "session_used"
    assert [c.checkin_id for c in records.checkins_between(AYU, DATE, DATE)] == ["c1"]
    assert records.day(AYU, DATE).version == 1


def test_a_day_changed_since_read_is_concurrent_update_and_writes_nothing(records):
    records.put_session(session("s1"), EXPIRES)
    records.put_session(session("s2"), EXPIRES)
    records.put_session(session("s3"), EXPIRES)
    records.record_checkin(attempt("c1"), day(), "s1", T0)
    read = records.day(AYU, DATE)
    records.record_checkin(attempt("c2", at=T1, kind="out"),
                           day(version=read.version, checkin_ids=("c1", "c2")), "s2", T1)
    # When a check-out that read the day before c2 was written stores its day
    stale = day(version=read.version, checkin_ids=("c1", "c3"))
    for d in (stale, day(version=None, checkin_ids=("c3",))):  # or thought there was no day
        with pytest.raises(Conflict) as err:
            records.record_checkin(attempt("c3", at=T2, kind="out"), d, "s3", T2)
        # Then nothing is written and the session is still usable
        assert err.value.code == "concurrent_update"
    assert records.day(AYU, DATE).day.checkin_ids == ("c1", "c2")
    assert [c.checkin_id for c in records.checkins_on(DATE)] == ["c1", "c2"]
    assert not records.get_session("s3").used
    # and a retry from a fresh read goes through
    fresh = records.day(AYU, DATE)
    records.record_checkin(attempt("c3", at=T2, kind="out"), day(version=fresh.version,
                                                                  checkin_ids=("c1", "c2", "c3")), "s3", T2)
    assert records.day(AYU, DATE).day.checkin_ids == ("c1", "c2", "c3")


def test_day_versions_increase_with_every_write(records):
    versions = []
    for n, at in enumerate((T0, T1, T2), start=1):
        records.put_session(session(f"s{n}"), EXPIRES)
        current = records.day(AYU, DATE)
        records.record_checkin(attempt(f"c{n}", at=at), day(version=current.version if current else None),
                               f"s{n}", at)
        versions.append(records.day(AYU, DATE).version)
    assert versions == [1, 2, 3]


def test_an_attempt_stored_twice_is_checkin_exists(records):
    records.put_session(session("s1"), EXPIRES)
    records.put_session(session("s2"), EXPIRES)
    records.record_checkin(attempt("c1"), None, "s1", T0)
    with pytest.raises(Conflict) as err:
        records.record_checkin(attempt("c1"), day(), "s2", T1)
    assert err.value.code == "checkin_exists"
    assert records.day(AYU, DATE) is None and not records.get_session("s2").used


# --- reading attendance --------------------------------------------------------------------------
def given_a_week(records: AttendanceRecords) -> None:
    """Ayu on 2, 3 and 4 March (an attempt at 00:00 and one at 09:00 UTC), Budi on 3 March."""
    n = 0
    for nip, date in ((AYU, "2026-03-02"), (AYU, "2026-03-03"), (AYU, "2026-03-04"), (BUDI, "2026-03-03")):
        for hour in ("09", "00"):  # written out of order
            n += 1
            records.put_session(session(f"s{n}", nip), EXPIRES)
            records.record_checkin(attempt(f"c{n}", nip, f"{date}T{hour}:00:00.000+00:00", local_date=date),
                                   None, f"s{n}", T0)
        records.mark_absent(day(nip, date, "absent"), T0)


def test_days_and_checkins_between_are_inclusive_and_ordered(records):
    given_a_week(records)
    days = records.days_between(AYU, "2026-03-03", "2026-03-04")
    assert [d.date for d in days] == ["2026-03-03", "2026-03-04"]
    got = records.checkins_between(AYU, "2026-03-02", "2026-03-03")
    assert [(c.local_date, c.at[11:13]) for c in got] == [
        ("2026-03-02", "00"), ("2026-03-02", "09"), ("2026-03-03", "00"), ("2026-03-03", "09")]
    assert records.days_between(BUDI, "2026-03-04", "2026-03-31") == []


def test_days_between_reads_a_year_to_date_across_months_and_pages(records):
    # Given Ayu's days on every date of 2025-12-30 .. 2026-04-02 (what the monthly recap reads for
    # March's PP 94/2021 count) with a padded reason each, and Budi's on one of them
    from datetime import date, timedelta
    dates = [(date(2025, 12, 30) + timedelta(days=i)).isoformat() for i in range(94)]
    pad = "x" * 12000  # ~1.1 MB in all: more than one DynamoDB page (1 MB)
    for d in dates:
        rec = day(AYU, d, "absent", checkin_ids=("c1",))
        records.mark_absent(rec.model_copy(update={"day": Day(status="absent", office_id="kanwil-bali",
                                                               reasons=({"code": "no_checkin", "pad": pad},))}), T0)
    records.mark_absent(day(BUDI, "2026-02-10", "absent"), T0)
    # When the recap reads 1 January to 31 March
    got = records.days_between(AYU, "2026-01-01", "2026-03-31")
    # Then every day of those three months, in order, and nobody else's nor another year's
    assert [d.date for d in got] == [d for d in dates if "2026-01-01" <= d <= "2026-03-31"]
    assert len(got) == 90 and {d.nip for d in got} == {AYU}


def test_days_of_reads_many_employees_dates_by_key_in_batches(records):
    # Given 60 employees' absent days on three dates (180 days: more than one BatchGetItem of 100)
    # and one day of Ayu on another date
    nips = [f"1990010120{k:02d}0110{k % 10:02d}"[:18] for k in range(60)]
    for n in nips:
        for d in ("2026-03-02", "2026-03-03", "2026-03-05"):
            records.mark_absent(day(n, d, "absent"), T0)
    records.mark_absent(day(AYU, "2026-03-04", "absent"), T0)
    # When the recap reads 40 of them (and Ayu, and a NIP without records) on 2 to 4 March
    wanted = [*nips[:40], AYU, "199999999999999999"]
    got = records.days_of(wanted, ["2026-03-02", "2026-03-03", "2026-03-04"])
    # Then exactly the stored days among those keys, by NIP then date, whole
    expected = sorted([(n, d) for n in nips[:40] for d in ("2026-03-02", "2026-03-03")] + [(AYU, "2026-03-04")])
    assert [(d.nip, d.date) for d in got] == expected
    assert got[0] == records.day(got[0].nip, got[0].date)
    # and nothing asked, nothing read
    assert records.days_of([], ["2026-03-02"]) == [] and records.days_of(nips, []) == []


def test_days_and_checkins_on_a_date_span_every_employee_by_nip(records):
    given_a_week(records)
    assert [(d.nip, d.date) for d in records.days_on("2026-03-03")] == [(BUDI, DATE), (AYU, DATE)]
    assert [(c.nip, c.at[11:13]) for c in records.checkins_on("2026-03-03")] == [
        (BUDI, "00"), (BUDI, "09"), (AYU, "00"), (AYU, "09")]
    assert records.days_on("2026-03-05") == [] and records.checkins_on("2026-03-05") == []


def test_mark_absent_writes_only_when_no_day_exists(records):
    absence = DayRecord(nip=AYU, date=DATE, name="Ayu Lestari",
                        day=absent_day("kanwil-bali", [{"code": "no_checkin", "percent": 1.5}]))
    # When / Then: the first mark is written (with the name the export needs), the second is not
    assert records.mark_absent(absence, T0) is True
    assert records.mark_absent(absence, T1) is False
    assert records.day(AYU, DATE) == absence.model_copy(update={"version": 1})
    # and a day with a check-in is never marked absent
    records.put_session(session("s1", BUDI), EXPIRES)
    records.record_checkin(attempt("c1", BUDI), day(BUDI), "s1", T0)
    assert records.mark_absent(absence.model_copy(update={"nip": BUDI}), T1) is False
    assert records.day(BUDI, DATE).day.status == "late"


def test_mark_absent_over_a_stored_day_needs_its_version(records):
    # Given a day with a check-out alone (no_record), stored at version 1
    records.put_session(session("s1"), EXPIRES)
    records.record_checkin(attempt("c1"), day(status="no_record"), "s1", T0)
    stored = records.day(AYU, DATE)
    absence = DayRecord(nip=AYU, date=DATE, name="Ayu Lestari",
                        day=absent_day("kanwil-bali", [{"code": "no_checkin"}], stored.day))
    # When marked absent at another version, nothing is written; at its version, it is
    assert records.mark_absent(absence.model_copy(update={"version": 7}), T1) is False
    assert records.mark_absent(absence.model_copy(update={"version": stored.version}), T1) is True
    marked = records.day(AYU, DATE)
    assert marked.day.status == "absent" and marked.version == stored.version + 1


def test_records_read_are_copies(records):
    records.put_session(session("s1"), EXPIRES)
    mine = attempt("c1")
    records.record_checkin(mine, day(), "s1", T0)
    mine.reasons.append({"code": "tampered"})
    records.checkins_on(DATE)[0].reasons.append({"code": "tampered"})
    records.day(AYU, DATE).day.reasons[0]["code"] = "tampered"
    assert records.checkins_on(DATE)[0].reasons == attempt("c1").reasons
    assert records.day(AYU, DATE).day.reasons[0]["code"] == "late"


# --- job markers ---------------------------------------------------------------------------------
def test_claim_is_once_only_until_released(records):
    now = datetime(2026, 3, 3, 10, tzinfo=timezone.utc)
    assert records.claim("absence-notice#2026-03-03#" + SUP, {"count": 2}, now) is True
    assert records.claim("absence-notice#2026-03-03#" + SUP, {"count": 3}, now) is False
    assert records.claim("absence-notice#2026-03-04#" + SUP, {}, now, ttl_days=1) is True
    # When released, it can be claimed again
    records.release("absence-notice#2026-03-03#" + SUP)
    records.release("never-claimed")
    assert records.claim("absence-notice#2026-03-03#" + SUP, {}, now) is True


# --- devices ---------------------------------------------------------------------------------
def test_enrolment_binds_the_device_and_a_supervisor_can_bind_another(backend):
    records = backend.records
    # Given an employee enrolled from a phone
    records.put_employee(employee(AYU), T0)
    records.put_session(session("enrol-dev", AYU, "enrolment"), EXPIRES)
    records.enrol(AYU, sealed(), "enrol-dev", T0, consent_notice="v1", device_id="phone-a")
    assert records.get_employee(AYU).device_id == "phone-a"
    # When their supervisor approves a new phone
    records.bind_device(AYU, "phone-b", actor=SUP, reason="new phone", now=T0)
    # Then it is bound, the directory import keeps it, and the change is audited with the old one
    records.put_employee(employee(AYU, name="Renamed"), T0)
    assert records.get_employee(AYU).device_id == "phone-b"
    bound = [a for a in records.audit_trail(AYU) if a.action == "device_bound"]
    assert [(a.actor, a.details["device_id"], a.details["previous"]) for a in bound] == [
        (SUP, "phone-b", "phone-a")]


def test_a_device_day_lists_every_employee_who_used_it(backend):
    records = backend.records
    assert records.use_device("phone-x", "2026-03-03", AYU, EXPIRES) == [AYU]
    assert records.use_device("phone-x", "2026-03-03", AYU, EXPIRES) == [AYU]  # once per person
    assert records.use_device("phone-x", "2026-03-03", BUDI, EXPIRES) == sorted([AYU, BUDI])
    assert records.use_device("phone-x", "2026-03-04", BUDI, EXPIRES) == [BUDI]  # per day


# --- reviews -------------------------------------------------------------------------------------
def review(kind: str = "checkin", decision: str = "approved", review_id: str = "c.r1") -> Review:
    return Review(review_id=review_id, kind=kind, nip=AYU, decision=decision, reviewer=SUP, at=T1,
                  comment="seen", local_date=DATE, checkin_id="c1" if kind == "checkin" else None)


def test_a_pending_enrolment_is_approved_once_and_audited(records):
    # Given Ayu enrolled, awaiting approval
    records.put_employee(employee(), T0)
    records.put_session(session("enrol-1", purpose="enrolment"), EXPIRES)
    records.enrol(AYU, sealed(), "enrol-1", T0, consent_notice="v1", pending=True)
    emp = records.get_employee(AYU)
    assert emp.awaiting_approval and (emp.enrolment_status, emp.enrolment_id) == ("pending_approval", "enrol-1")
    # When her supervisor approves it
    records.decide_enrolment(review("enrolment", review_id="e.1"), "enrol-1", T1)
    # Then approved, the template kept, and the audit says who decided
    emp = records.get_employee(AYU)
    assert (emp.enrolled, emp.enrolment_status, emp.awaiting_approval) == (True, "approved", False)
    assert records.sealed_template(AYU) == sealed()
    last = records.audit_trail(AYU)[-1]
    assert (last.action, last.actor, last.details["review_id"]) == ("enrolment_approved", SUP, "e.1")
    # And a second decision finds nothing pending (the upsert of the directory keeps the state)
    records.put_employee(employee(name="Ayu L."), T2)
    assert records.get_employee(AYU).enrolment_status == "approved"
    with pytest.raises(Conflict) as err:
        records.decide_enrolment(review("enrolment", "rejected", review_id="e.2"), "enrol-1", T2)
    assert err.value.code == "review_not_pending" and records.sealed_template(AYU) == sealed()


def test_a_rejected_enrolment_deletes_the_template_so_the_employee_can_enrol_again(records):
    records.put_employee(employee(), T0)
    records.put_session(session("enrol-1", purpose="enrolment"), EXPIRES)
    records.enrol(AYU, sealed(), "enrol-1", T0, consent_notice="v1", pending=True)
    records.decide_enrolment(review("enrolment", "rejected", review_id="e.1"), "enrol-1", T1)
    emp = records.get_employee(AYU)
    assert (emp.enrolled, emp.enrolment_status) == (False, None) and records.sealed_template(AYU) is None
    assert actions(records)[-1] == "enrolment_rejected"


def test_deciding_another_enrolment_than_the_pending_one_is_review_not_pending(records):
    records.put_employee(employee(), T0)
    records.put_session(session("enrol-1", purpose="enrolment"), EXPIRES)
    records.enrol(AYU, sealed(), "enrol-1", T0, consent_notice="v1", pending=True)
    with pytest.raises(Conflict) as err:
        records.decide_enrolment(review("enrolment", review_id="e.old"), "enrol-0", T1)
    assert err.value.code == "review_not_pending" and records.get_employee(AYU).awaiting_approval


def test_an_enrolment_without_approval_is_approved_at_once(records):
    given_enrolled(records)
    assert records.get_employee(AYU).enrolment_status == "approved"


def test_a_checkin_review_stores_the_day_it_recomputed_once(records):
    # Given a day pending review
    records.put_session(session("s1"), EXPIRES)
    records.record_checkin(attempt("c1", decision="flagged"), day(status="pending_review"), "s1", T0)
    stored = records.day(AYU, DATE)
    decided = stored.model_copy(update={"day": Day(status="present", office_id="kanwil-bali",
                                                   review_ids=("c.r1",), checkin_ids=("c1",))})
    # When the review is stored with the new day
    records.review_checkin(review(), decided, T1)
    # Then the day is the review's, a version on, and the audit names the decision
    after = records.day(AYU, DATE)
    assert (after.day.status, after.day.review_ids, after.version) == ("present", ("c.r1",), 2)
    assert actions(records)[-1] == "checkin_review_approved"
    # And the same review again is already_reviewed; the day stays
    with pytest.raises(Conflict) as err:
        records.review_checkin(review(), after, T2)
    assert err.value.code == "already_reviewed" and records.day(AYU, DATE).version == 2
    # And neither reviews nor their keys leak into the day and check-in queries
    assert [c.checkin_id for c in records.checkins_between(AYU, DATE, DATE)] == ["c1"]
    assert len(records.days_on(DATE)) == 1 and len(records.checkins_on(DATE)) == 1


def test_a_checkin_review_over_a_day_that_moved_is_concurrent_update(records):
    records.put_session(session("s1"), EXPIRES)
    records.record_checkin(attempt("c1", decision="flagged"), day(status="pending_review"), "s1", T0)
    stale = records.day(AYU, DATE).model_copy(update={"version": 0})
    with pytest.raises(Conflict) as err:
        records.review_checkin(review(), stale, T1)
    assert err.value.code == "concurrent_update"
    assert records.day(AYU, DATE).day.status == "pending_review"
    # nothing half-written: the review may still be made
    records.review_checkin(review(), records.day(AYU, DATE), T1)


# --- notifications --------------------------------------------------------------------------------
def test_notifications_are_listed_newest_first_per_employee(records):
    for i, at in enumerate((T0, T2, T1)):
        records.add_notification(Notification(notification_id=f"n{i}", nip=AYU, at=at, topic="review_decided",
                                              ref=f"r{i}", message=f"m{i}", details={"i": i}), EXPIRES)
    records.add_notification(Notification(notification_id="x", nip=BUDI, at=T1, topic="t", ref="r",
                                          message="m"), EXPIRES)
    assert [n.notification_id for n in records.notifications(AYU, 10)] == ["n1", "n2", "n0"]
    assert [n.notification_id for n in records.notifications(AYU, 2)] == ["n1", "n2"]
    assert records.notifications(AYU, 1)[0].details == {"i": 1}
    assert records.notifications(SUP, 5) == []
# --- leave and permission requests -----------------------------------------------------------------
def request(request_id: str = "rq-1", nip: str = AYU, start: str = "2026-03-09", end: str = "2026-03-11",
            **kw) -> RequestRecord:
    return RequestRecord(**{"request_id": request_id, "nip": nip, "name": "Ayu Lestari", "type": "leave",
                            "subtype": "annual", "start": start, "end": end, "reason": "family",
                            "working_days": 3, "created_at": T0, "updated_at": T0, **kw})


def approved(r: RequestRecord, by: str = SUP, at: str = T1) -> RequestRecord:
    return r.model_copy(update={"status": "approved", "updated_at": at, "decisions": [
        RequestDecision(level=1, decision="approved", by=by, by_nip=by, at=at, comment="ok")]})


def test_a_request_is_created_read_back_at_version_1_and_audited(records):
    # When Ayu's request is stored
    records.create_request(request(), T0)
    # Then it reads back as written, at version 1, and its submission is audited
    assert records.get_request("rq-1") == request(version=1)
    assert records.get_request("rq-unknown") is None
    assert actions(records) == ["request_submitted"]
    assert records.audit_trail(AYU)[0].details["request_id"] == "rq-1"
    # And an id taken is request_exists
    with pytest.raises(Conflict) as exc:
        records.create_request(request(start="2026-04-01", end="2026-04-01"), T1)
    assert exc.value.code == "request_exists" and records.get_request("rq-1").start == "2026-03-09"


def test_requests_of_an_employee_overlap_the_range_by_start(records):
    # Given three requests of Ayu and one of Budi
    records.create_request(request("rq-b", start="2026-03-16", end="2026-03-20"), T0)
    records.create_request(request("rq-a", start="2026-03-02", end="2026-03-04"), T0)
    records.create_request(request("rq-c", start="2026-04-01", end="2026-04-01"), T0)
    records.create_request(request("rq-d", BUDI, start="2026-03-02", end="2026-03-04"), T0)
    # Then each range finds the requests overlapping it, ordered by start
    assert [r.request_id for r in records.requests_of(AYU)] == ["rq-a", "rq-b", "rq-c"]
    assert [r.request_id for r in records.requests_of(AYU, "2026-03-04", "2026-03-16")] == ["rq-a", "rq-b"]
    assert [r.request_id for r in records.requests_of(AYU, "2026-03-05", "2026-03-15")] == []
    assert [r.request_id for r in records.requests_of(BUDI)] == ["rq-d"]


def test_requests_with_status_span_employees_and_cover_a_date(records):
    records.create_request(request("rq-a"), T0)
    records.create_request(request("rq-b", BUDI, start="2026-03-10", end="2026-03-10"), T0)
    stored = records.get_request("rq-b")
    records.decide_request(approved(stored), "request_approved", SUP, T1)
    # Then pending and approved are listed apart, and "on" keeps those covering the date
    assert [r.request_id for r in records.requests_with_status("pending")] == ["rq-a"]
    assert [r.request_id for r in records.requests_with_status("approved")] == ["rq-b"]
    assert [r.request_id for r in records.requests_with_status("approved", on="2026-03-10")] == ["rq-b"]
    assert records.requests_with_status("approved", on="2026-03-11") == []
    assert [r.request_id for r in records.requests_with_status("pending", on="2026-03-11")] == ["rq-a"]


def test_the_longest_request_is_found_on_its_last_day_and_ones_long_over_are_not(records):
    # Given an approved request of the longest span (MAX_SPAN_DAYS days: 1 Jan to 2 Apr 2026) and
    # one that ended a year before
    from chalicelib.policy.requests import MAX_SPAN_DAYS
    assert MAX_SPAN_DAYS == 92  # 2026-01-01 + 91 days = 2026-04-02
    for rid, start, end in (("rq-long", "2026-01-01", "2026-04-02"), ("rq-old", "2025-01-05", "2025-01-06")):
        records.create_request(request(rid, start=start, end=end), T0)
        records.decide_request(approved(records.get_request(rid)), "request_approved", SUP, T1)
    # Then on its last day, and in a window that opens on it, it is there; the old one never
    assert [r.request_id for r in records.requests_with_status("approved", on="2026-04-02")] == ["rq-long"]
    assert [r.request_id for r in records.requests_overlapping("approved", "2026-04-02", "2026-04-30")] == ["rq-long"]
    assert records.requests_with_status("approved", on="2026-04-03") == []
    assert [r.request_id for r in records.requests_overlapping("approved", "2025-01-06", "2025-01-31")] == ["rq-old"]
    assert [r.request_id for r in records.requests_with_status("approved")] == ["rq-old", "rq-long"]


def test_requests_overlapping_span_employees_in_a_status_and_a_range(records):
    # Given Ayu's requests before, across and after March, Budi's inside it, and a pending one
    for rid, nip, start, end in (("rq-a", AYU, "2026-02-20", "2026-03-02"), ("rq-b", AYU, "2026-03-31", "2026-04-03"),
                                 ("rq-c", AYU, "2026-04-01", "2026-04-02"), ("rq-d", BUDI, "2026-03-10", "2026-03-10"),
                                 ("rq-e", AYU, "2026-02-01", "2026-02-28")):
        records.create_request(request(rid, nip, start=start, end=end), T0)
        records.decide_request(approved(records.get_request(rid)), "request_approved", SUP, T1)
    records.create_request(request("rq-p", BUDI, start="2026-03-12", end="2026-03-12"), T0)
    # Then the approved ones overlapping March (both ends inclusive), by start, whoever's
    assert [r.request_id for r in records.requests_overlapping("approved", "2026-03-01", "2026-03-31")] == [
        "rq-a", "rq-d", "rq-b"]
    assert [r.request_id for r in records.requests_overlapping("pending", "2026-03-01", "2026-03-31")] == ["rq-p"]
    assert records.requests_overlapping("approved", "2026-05-01", "2026-05-31") == []


def test_approving_writes_the_request_the_audit_the_site_and_the_days_together(records):
    # Given a pending dinas luar request and a stored absent day it covers
    records.create_request(request(type="official_travel", subtype=None), T0)
    records.mark_absent(day(status="absent", date="2026-03-09"), T0)
    stored_day = records.day(AYU, "2026-03-09")
    site = PersonalSite(nip=AYU, site_id="dl-rq-1", kind="assignment", work_mode="DL",
                        geofence={"type": "circle", "lat": -6.9, "lon": 107.6, "radius_m": 200},
                        valid_from="2026-03-09", valid_to="2026-03-11")
    travel = stored_day.day.__class__(status="official_travel", office_id="kanwil-bali", request_ids=("rq-1",))
    new_day = stored_day.model_copy(update={"day": travel})
    new_day_2 = DayRecord(nip=AYU, date="2026-03-10", day=travel)
    # When approved
    records.decide_request(approved(records.get_request("rq-1")).model_copy(update={"site_id": "dl-rq-1"}),
                           "request_approved", SUP, T1, site=site, days=[new_day, new_day_2])
    # Then all of it is written
    got = records.get_request("rq-1")
    assert (got.status, got.version, got.site_id, got.decisions[0].by) == ("approved", 2, "dl-rq-1", SUP)
    assert [(s.site_id, s.valid_from, s.valid_to, s.created_by) for s in records.sites_of(AYU)] == [
        ("dl-rq-1", "2026-03-09", "2026-03-11", SUP)]
    assert [(d.date, d.day.status, d.day.request_ids, d.version) for d in
            records.days_between(AYU, "2026-03-09", "2026-03-10")] == [
        ("2026-03-09", "official_travel", ("rq-1",), 2), ("2026-03-10", "official_travel", ("rq-1",), 1)]
    assert actions(records) == ["request_submitted", "request_approved"]


def test_two_concurrent_decisions_one_wins_the_other_is_request_not_pending(records):
    # Given a request both the supervisor and an admin read at version 1
    records.create_request(request(), T0)
    read_by_sup, read_by_admin = records.get_request("rq-1"), records.get_request("rq-1")
    records.decide_request(approved(read_by_sup), "request_approved", SUP, T1)
    # When the admin's rejection arrives on the version read before
    rejected = read_by_admin.model_copy(update={"status": "rejected"})
    with pytest.raises(Conflict) as exc:
        records.decide_request(rejected, "request_rejected", "admin", T2)
    # Then it is refused and nothing of it is written
    assert exc.value.code == "request_not_pending"
    assert records.get_request("rq-1").status == "approved"
    assert actions(records) == ["request_submitted", "request_approved"]


def test_a_decision_over_a_day_changed_meanwhile_writes_nothing(records):
    records.create_request(request(), T0)
    records.mark_absent(day(status="absent", date="2026-03-09"), T0)
    stale = DayRecord(nip=AYU, date="2026-03-09", version=7, day=Day(status="on_leave", request_ids=("rq-1",)))
    with pytest.raises(Conflict) as exc:
        records.decide_request(approved(records.get_request("rq-1")), "request_approved", SUP, T1, days=[stale])
    assert exc.value.code == "concurrent_update"
    assert records.get_request("rq-1").status == "pending" and records.day(AYU, "2026-03-09").day.status == "absent"
    assert actions(records) == ["request_submitted"]


def test_a_site_taken_cancels_the_approval(records):
    records.create_request(request(type="official_travel", subtype=None), T0)
    site = PersonalSite(nip=AYU, site_id="dl-rq-1", kind="assignment", work_mode="DL",
                        geofence={"type": "circle", "lat": -6.9, "lon": 107.6, "radius_m": 200})
    records.add_site(site, "admin", T0)
    with pytest.raises(Conflict) as exc:
        records.decide_request(approved(records.get_request("rq-1")), "request_approved", SUP, T1, site=site)
    assert exc.value.code == "site_exists" and records.get_request("rq-1").status == "pending"


def test_cancel_writes_only_over_a_pending_request(records):
    records.create_request(request(), T0)
    cancelled = records.get_request("rq-1").model_copy(update={"status": "cancelled"})
    # When cancelled, the change is stored and audited
    records.cancel_request(cancelled, AYU, T1)
    assert records.get_request("rq-1").status == "cancelled"
    assert actions(records) == ["request_submitted", "request_cancelled"]
    # And cancelling (or deciding) it again is request_not_pending
    again = records.get_request("rq-1").model_copy(update={"status": "cancelled"})
    for attempt_it in (lambda: records.cancel_request(again, AYU, T2),
                       lambda: records.decide_request(approved(again), "request_approved", SUP, T2)):
        with pytest.raises(Conflict) as exc:
            attempt_it()
        assert exc.value.code == "request_not_pending"


def test_the_ledger_counts_submissions_and_remembers_the_last_ids(records):
    # Given no request yet: the ledger is at 0
    assert records.request_ledger(AYU) == RequestLedger(nip=AYU)
    # When six requests are stored, each from the ledger read before it
    for n in range(6):
        records.create_request(request(f"rq-{n}", start=f"2026-04-0{n + 1}", end=f"2026-04-0{n + 1}"), T0,
                               records.request_ledger(AYU))
    # Then it counts them and keeps the last five ids; Budi's is his own
    assert records.request_ledger(AYU) == RequestLedger(
        nip=AYU, version=6, recent=["rq-1", "rq-2", "rq-3", "rq-4", "rq-5"])
    assert records.request_ledger(BUDI).version == 0
    # And the ledger is no request: no index lists it, no id finds it
    assert [r.request_id for r in records.requests_of(AYU)] == [f"rq-{n}" for n in range(6)]
    assert records.requests_with_status("pending")[0].request_id == "rq-0"
    assert records.get_request(f"ledger#{AYU}") is None


def test_two_submissions_checked_on_the_same_read_store_only_the_first(records):
    # Given two overlapping submissions both checked against the ledger read before either
    seen = records.request_ledger(AYU)
    records.create_request(request("rq-a"), T0, seen)
    # When the second is stored on that same read
    with pytest.raises(Conflict) as exc:
        records.create_request(request("rq-b", start="2026-03-10", end="2026-03-12"), T1, seen)
    # Then it is concurrent_update, and nothing of it is written
    assert exc.value.code == "concurrent_update"
    assert records.get_request("rq-b") is None and actions(records) == ["request_submitted"]
    assert records.request_ledger(AYU) == RequestLedger(nip=AYU, version=1, recent=["rq-a"])
    # And checked again on a fresh read, it is stored
    records.create_request(request("rq-b", start="2026-03-10", end="2026-03-12"), T1, records.request_ledger(AYU))
    assert records.get_request("rq-b").version == 1 and records.request_ledger(AYU).version == 2


def test_a_taken_id_moves_no_ledger(records):
    records.create_request(request(), T0)
    seen = records.request_ledger(AYU)
    with pytest.raises(Conflict) as exc:
        records.create_request(request(start="2026-04-01", end="2026-04-01"), T1, seen)
    assert exc.value.code == "request_exists" and records.request_ledger(AYU) == seen


def test_an_attachment_is_written_only_over_a_pending_request_and_audited(records):
    records.create_request(request(), T0)
    doc = Attachment(key=f"attachments/{AYU}/rq-1/u1.pdf", content_type="application/pdf", bytes=2048,
                     upload_id="u1", uploaded_at=T1)
    # When the document is attached to the pending request
    records.amend_request(records.get_request("rq-1").model_copy(update={"attachment": doc}),
                          "request_attachment_added", AYU, T1)
    # Then it reads back with it, at the next version, audited with its type and size
    got = records.get_request("rq-1")
    assert (got.attachment, got.version) == (doc, 2)
    last = records.audit_trail(AYU)[-1]
    assert (last.action, last.actor) == ("request_attachment_added", AYU)
    assert last.details["attachment"] == {"key": doc.key, "content_type": "application/pdf", "bytes": 2048,
                                          "uploaded_at": T1}
    # And over a stale version or a decided request it is request_not_pending
    stale = got.model_copy(update={"version": 1})
    records.cancel_request(got.model_copy(update={"status": "cancelled"}), AYU, T2)
    for late in (stale, records.get_request("rq-1")):
        with pytest.raises(Conflict) as exc:
            records.amend_request(late, "request_attachment_added", AYU, T2)
        assert exc.value.code == "request_not_pending"
# --- audit log -----------------------------------------------------------------------------------
def entry(subject: str, at: str, action: str = "export_written", actor: str = "scheduler",
          **kw) -> AuditEntry:
    return AuditEntry(subject=subject, at=at, action=action, actor=actor, **kw)


def test_an_office_is_audited_when_created_and_replaced_with_before_and_after(records):
    # When an admin creates an office, then replaces it
    records.put_office(office(), T0, actor="admin")
    records.put_office(office(work_mode="WFA"), T1, actor="admin")
    # Then both are on the log under the office, each with what it was and what it became
    page = records.audit_log("2026-03-03", "2026-03-03", subject="office#kanwil-bali")
    created, replaced = page.entries
    assert (created.action, created.actor, created.before) == ("office_created", "admin", None)
    assert created.after == office().model_dump(mode="json", exclude={"office_id"})
    assert (replaced.action, replaced.at) == ("office_replaced", T1)
    assert (replaced.before["work_mode"], replaced.after["work_mode"]) == ("WFO", "WFA")
    assert page.next is None


def test_an_import_is_audited_with_the_fields_before_and_after_never_a_password(records):
    # When an employee is created with a password, then moved to another supervisor
    records.put_employee(employee(), T0, actor="admin", password_set=True)
    records.put_employee(employee(supervisor_nip=BUDI, roles=["employee", "supervisor"]), T1, actor="admin")
    # Then
    created, updated = records.audit_trail(AYU)
    assert (created.action, created.actor, created.before) == ("employee_created", "admin", None)
    assert created.details == {"changed": ["echelon", "email", "group", "name", "office_ids", "roles",
                                           "supervisor_nip", "unit"], "password_set": True}
    assert created.after == {"name": "Ayu Lestari", "unit": None, "group": None, "office_ids": ["kanwil-bali"],
                             "supervisor_nip": SUP, "roles": ["employee"], "email": None, "echelon": None}
    assert updated.action == "employee_updated"
    assert updated.details == {"changed": ["roles", "supervisor_nip"], "password_set": False}
    assert (updated.before["supervisor_nip"], updated.after["supervisor_nip"]) == (SUP, BUDI)
    assert updated.after["roles"] == ["employee", "supervisor"]


def test_site_and_device_changes_carry_before_and_after(records):
    records.put_employee(employee(), T0)
    records.add_site(site(), SUP, T0)
    records.remove_site(AYU, "home", SUP, T1)
    records.bind_device(AYU, "phone-b", actor=SUP, reason=None, now=T1)
    _, added, removed, bound = records.audit_trail(AYU)
    assert (added.before, added.after["site_id"]) == (None, "home")
    assert (removed.before["site_id"], removed.after) == ("home", None)
    assert (bound.before, bound.after) == ({"device_id": None}, {"device_id": "phone-b"})


def test_append_audit_stores_a_standalone_entry_with_its_id(records):
    stored = records.append_audit(entry("export#2026-03-03", T1, after={"sha256": "ab" * 32}))
    assert stored.entry_id and stored.entry_id.startswith(T1 + "#")
    assert stored == entry("export#2026-03-03", T1, after={"sha256": "ab" * 32}, entry_id=stored.entry_id)
    assert records.audit_log("2026-03-03", "2026-03-03").entries == [stored]


def test_the_audit_log_is_by_utc_date_oldest_first_and_filtered(records):
    # Given entries over three UTC days by two actors about two subjects
    given = [("office#a", "2026-03-02T23:59:59.999+00:00", "admin"),
             ("employee#" + AYU, "2026-03-03T00:00:00.000+00:00", "admin"),
             ("office#a", "2026-03-03T10:00:00.000+00:00", "seed"),
             ("employee#" + AYU, "2026-03-04T00:00:00.000+00:00", "seed"),
             ("office#b", "2026-03-05T00:00:00.000+00:00", "admin")]
    for subject, at, actor in given:
        records.append_audit(entry(subject, at, actor=actor))

    def log(start, end, **kw):
        return [(e.subject, e.at) for e in records.audit_log(start, end, **kw).entries]
    # Then the dates are inclusive UTC dates, oldest first
    assert log("2026-03-03", "2026-03-04") == [(s, at) for s, at, _ in given[1:4]]
    assert log("2026-03-02", "2026-03-02") == [given[0][:2]]
    assert log("2026-03-06", "2026-03-31") == []
    # And the filters narrow it, alone or together
    assert log("2026-03-01", "2026-03-31", actor="seed") == [given[2][:2], given[3][:2]]
    assert log("2026-03-01", "2026-03-31", subject="office#a") == [given[0][:2], given[2][:2]]
    assert log("2026-03-01", "2026-03-31", subject="office#a", actor="admin") == [given[0][:2]]
    assert log("2026-03-01", "2026-03-31", actor="nobody") == []


def test_the_audit_log_pages_across_days_without_loss_or_repeat(records):
    # Given seven entries over four days, two of them at the same instant
    ats = ["2026-03-01T01:00:00.000+00:00", "2026-03-02T01:00:00.000+00:00",
           "2026-03-02T02:00:00.000+00:00", "2026-03-02T02:00:00.000+00:00",
           "2026-03-04T01:00:00.000+00:00", "2026-03-04T05:00:00.000+00:00",
           "2026-03-05T00:00:00.000+00:00"]
    ids = [records.append_audit(entry(f"export#{i}", at, details={"n": i})).entry_id
           for i, at in enumerate(ats)]
    # When read two at a time, following each page's cursor
    seen, after, pages = [], None, 0
    while True:
        page = records.audit_log("2026-03-01", "2026-03-05", limit=2, after=after)
        seen += [e.details["n"] for e in page.entries]
        pages += 1
        if page.next is None:
            break
        assert len(page.entries) == 2 and page.next.entry_id == page.entries[-1].entry_id
        after = page.next
    # Then every entry came once, in order, and the last page said there was no more
    assert seen == list(range(7)) and pages == 4
    assert ids == sorted(ids)
    # And a page that is exactly full says so only if more follow
    assert records.audit_log("2026-03-01", "2026-03-05", limit=7).next is None
    # And filters hold across pages
    first = records.audit_log("2026-03-01", "2026-03-05", limit=1, subject="export#4")
    assert [e.details["n"] for e in first.entries] == [4] and first.next is None


def test_a_cursor_at_no_stored_entry_still_resumes_after_its_place(records):
    for i, at in enumerate([T0, T1, T2]):
        records.append_audit(entry("export#x", at, details={"n": i}))
    between = AuditCursor(subject="export#x", entry_id=T1[:-6] + "#0")  # sorts before T1's entries
    page = records.audit_log("2026-03-03", "2026-03-03", after=between)
    assert [e.details["n"] for e in page.entries] == [1, 2]


def test_an_office_changed_since_read_is_concurrent_update_and_audits_nothing(dynamo, monkeypatch):
    """DynamoDB only (the in-memory store has no moment between read and write): the before of
    an office's audit entry is exactly what was replaced, or nothing is written."""
    from chalicelib.adapters.storage.models import OfficeModel
    records, settings = dynamo
    _empty_tables(settings)
    records.put_office(office(), T0, actor="admin")
    stale = OfficeModel.get("kanwil-bali")
    records.put_office(office(name="Kanwil Bali (baru)"), T1, actor="admin")
    # When another replacement read the office before that change
    monkeypatch.setattr(OfficeModel, "get", classmethod(lambda cls, *a, **kw: stale))
    with pytest.raises(Conflict) as err:
        records.put_office(office(work_mode="WFA"), T2, actor="other-admin")
    # Then nothing of it was written
    monkeypatch.undo()
    assert err.value.code == "concurrent_update"
    assert records.get_office("kanwil-bali").name == "Kanwil Bali (baru)"
    assert [e.actor for e in records.audit_log("2026-03-03", "2026-03-03").entries] == ["admin", "admin"]


# --- agency configuration (calendar, lateness) -------------------------------------------------
CAL_DOC = {"years": {"2026": {"cuti_bersama": [{"date": "2026-02-16", "name": "Cuti Bersama Imlek"}]}},
           "package_cuti_bersama": True, "source": "SKB 2026"}


def test_no_config_is_stored_until_an_admin_sets_one(records):
    assert records.agency_config("calendar") is None


def test_several_kinds_are_read_at_once_and_the_unset_ones_are_absent(records):
    # Given a calendar and a lateness table stored, the schedules never set
    records.put_agency_config("calendar", CAL_DOC, None, "admin", T0)
    records.put_agency_config("lateness", {"grace_minutes": 5}, None, "admin", T0)
    records.put_agency_config("lateness", {"grace_minutes": 7}, 1, "admin", T1)
    # When the three kinds are read in one call
    found = records.agency_configs(["calendar", "lateness", "schedules"])
    # Then each stored kind comes at its latest version, as read one by one, and the unset is absent
    assert set(found) == {"calendar", "lateness"}
    assert found["calendar"] == records.agency_config("calendar")
    assert (found["lateness"].version, found["lateness"].document) == (2, {"grace_minutes": 7})


def test_the_first_config_is_version_1_and_each_change_counts_up(records):
    # Given nothing stored, When an admin creates the calendar and then changes it
    first = records.put_agency_config("calendar", CAL_DOC, None, "admin", T0)
    second = records.put_agency_config("calendar", {**CAL_DOC, "source": "SKB 2026 revisi"}, 1, "admin2", T1)
    # Then the versions count up and the store returns the latest, who set it and when
    assert (first.version, second.version) == (1, 2)
    stored = records.agency_config("calendar")
    assert stored == second
    assert (stored.document["source"], stored.updated_by, stored.updated_at) == ("SKB 2026 revisi", "admin2", T1)
    # And each change is audited with the versions around it
    entries = records.audit_log("2026-03-03", "2026-03-03", subject="config#calendar").entries
    assert [(e.action, e.actor, e.before, e.after) for e in entries] == [
        ("config_changed", "admin", {"version": None}, {"version": 1}),
        ("config_changed", "admin2", {"version": 1}, {"version": 2})]


def test_a_config_change_may_name_what_changed_in_its_audit_entry(records):
    # When an admin sets an event day (the events document), naming the event
    records.put_agency_config("events", {"events": []}, None, "admin", T0,
                              details={"action": "event_set", "office_id": "kanwil-bali", "date": "2026-08-17"})
    # Then the audit entry carries the kind and those details
    [entry] = records.audit_log("2026-03-03", "2026-03-03", subject="config#events").entries
    assert entry.details == {"kind": "events", "action": "event_set", "office_id": "kanwil-bali",
                             "date": "2026-08-17"}


@pytest.mark.parametrize("expected", [None, 1, 3])
def test_a_stale_version_is_config_changed_and_nothing_is_written(records, expected):
    # Given version 2 stored
    records.put_agency_config("lateness", {"grace_minutes": 0}, None, "admin", T0)
    records.put_agency_config("lateness", {"grace_minutes": 5}, 1, "admin", T0)
    # When a put names another version (none: "create", an older one, a future one)
    with pytest.raises(Conflict) as e:
        records.put_agency_config("lateness", {"grace_minutes": 9}, expected, "admin", T1)
    # Then config_changed says what was expected and what is stored, and nothing changed
    assert e.value.code == "config_changed"
    assert e.value.details == {"kind": "lateness", "expected_version": expected, "stored_version": 2}
    assert records.agency_config("lateness").document == {"grace_minutes": 5}
    assert len(records.audit_log("2026-03-03", "2026-03-03", subject="config#lateness").entries) == 2


def test_updating_a_kind_never_created_is_config_changed(records):
    with pytest.raises(Conflict) as e:
        records.put_agency_config("calendar", CAL_DOC, 1, "admin", T0)
    assert e.value.details["stored_version"] is None
    assert records.agency_config("calendar") is None


def test_kinds_are_kept_apart(records):
    records.put_agency_config("calendar", CAL_DOC, None, "admin", T0)
    records.put_agency_config("lateness", {"grace_minutes": 5}, None, "admin", T0)
    assert records.agency_config("calendar").document == CAL_DOC
    assert records.agency_config("lateness").version == 1


# --- whereabouts: pings, episodes, the latest fix and the open episode ----------------------------
from chalicelib.services.records import Episode, Ping  # noqa: E402

P_EXPIRES = datetime(2026, 3, 10, 2, tzinfo=timezone.utc)


def _ping(at: str, ping_id: str = "p1", nip: str = AYU, lat: float = -8.67, outside: bool = False) -> Ping:
    return Ping(ping_id=ping_id, nip=nip, at=at, local_date=DATE, lat=lat, lon=115.21, accuracy_m=8.0,
                captured_at=at, outside=outside, reasons=[{"code": "outside_region", "effect": "flag"}])


def _episode(at: str = T1, episode_id: str = "e1", nip: str = AYU) -> Episode:
    return Episode(episode_id=episode_id, nip=nip, name="Ayu", supervisor_nip=SUP, kind="outside_region",
                   local_date=DATE, opened_at=at, last_at=at, first={"lat": -8.5, "lon": 115.26})


def test_a_ping_becomes_the_latest_fix_unless_one_is_newer_than_not_before(records):
    # Given a ping at T1
    assert records.record_ping(_ping(T1), P_EXPIRES, not_before=T0) is True
    # When another comes whose not_before is before T1 (the rate limit), then one after it
    refused = records.record_ping(_ping(T2, "p2", lat=-8.6), P_EXPIRES, not_before=T0)
    accepted = records.record_ping(_ping(T2, "p3", lat=-8.6), P_EXPIRES, not_before=T1)
    # Then the refused one wrote nothing; the latest fix is the accepted one
    assert refused is False and accepted is True
    assert [p.ping_id for p in records.pings_between(AYU, T0, T2)] == ["p1", "p3"]
    state = records.ping_state(AYU)
    assert state.last.at == T2 and state.last.lat == -8.6 and state.open_episode is None
    assert records.ping_state(BUDI).last is None


def test_one_episode_is_open_at_a_time_extended_then_closed(records):
    # Given an open episode
    assert records.open_episode(_episode(), P_EXPIRES) is True
    # When another opens for the same employee, the first is extended twice, then closed
    second = records.open_episode(_episode(T2, "e2"), P_EXPIRES)
    records.extend_episode(_episode(), T2)
    records.extend_episode(_episode(), T2)
    open_ = records.ping_state(AYU).open_episode
    wrong = records.close_episode(_episode(T2, "e2"), T2)
    closed = records.close_episode(_episode(), T2)
    again = records.close_episode(_episode(), T2)
    # Then
    assert second is False and wrong is False and closed is True and again is False
    assert open_.episode_id == "e1" and open_.pings == 3 and open_.last_at == T2
    assert records.ping_state(AYU).open_episode is None
    [e] = records.episodes_on(DATE)
    assert e.episode_id == "e1" and e.closed_at == T2 and e.pings == 3 and e.first["lat"] == -8.5
    assert records.episodes_on("2026-03-04") == []
    # And a new one may open once it is closed
    assert records.open_episode(_episode(T2, "e3"), P_EXPIRES) is True


def test_episodes_of_a_date_are_everyones_by_nip(records):
    records.open_episode(_episode(nip=BUDI, episode_id="eb"), P_EXPIRES)
    records.open_episode(_episode(nip=AYU, episode_id="ea"), P_EXPIRES)
    assert [(e.nip, e.episode_id) for e in records.episodes_on(DATE)] == [(BUDI, "eb"), (AYU, "ea")]  # by NIP


def test_ping_states_read_in_bulk_are_each_employees_latest_fix_and_open_episode(records):
    # Given Ayu with a fix and an open episode, Budi with a fix and a closed one, and 120 others
    # with fixes only (more keys than one BatchGetItem takes)
    others = [f"1990010120150320{i:02d}" for i in range(60)] + [f"1990010120150321{i:02d}" for i in range(60)]
    records.record_ping(_ping(T1), P_EXPIRES, not_before=T0)
    records.open_episode(_episode(), P_EXPIRES)
    records.record_ping(_ping(T2, "pb", nip=BUDI, lat=-8.6), P_EXPIRES, not_before=T0)
    records.open_episode(_episode(nip=BUDI, episode_id="eb"), P_EXPIRES)
    records.close_episode(_episode(nip=BUDI, episode_id="eb"), T2)
    for n in others:
        records.record_ping(_ping(T1, f"p{n}", nip=n), P_EXPIRES, not_before=T0)
    # When all are read at once, with one NIP never seen and one asked twice
    states = records.ping_states([AYU, BUDI, SUP, AYU, *others])
    # Then each is what ping_state says, every NIP a key
    assert set(states) == {AYU, BUDI, SUP, *others}
    for nip in (AYU, BUDI, SUP, *others[::37]):
        assert states[nip] == records.ping_state(nip)
    assert states[AYU].open_episode.episode_id == "e1" and states[AYU].last.at == T1
    assert states[BUDI].open_episode is None and states[BUDI].last.lat == -8.6
    assert states[SUP].last is None and states[SUP].open_episode is None
    assert records.ping_states([]) == {}


def _episode_review(decision: str = "approved", episode_id: str = "e1") -> Review:
    return Review(review_id=f"w.{AYU}.{DATE}.{episode_id}", kind="episode", nip=AYU, decision=decision,
                  reviewer=SUP, at=T2, comment="rapat di Gianyar", local_date=DATE)


def test_an_episode_is_found_by_employee_date_and_id(records):
    records.open_episode(_episode(), P_EXPIRES)
    records.open_episode(_episode(nip=BUDI, episode_id="eb"), P_EXPIRES)
    assert records.episode(AYU, DATE, "e1").episode_id == "e1"
    assert records.episode(AYU, DATE, "eb") is None  # Budi's
    assert records.episode(AYU, "2026-03-04", "e1") is None
    assert records.episode(BUDI, DATE, "eb").nip == BUDI


def test_an_episode_is_decided_once_stored_on_it_and_audited(records):
    # Given Ayu's episode, closed
    records.open_episode(_episode(), P_EXPIRES)
    records.close_episode(_episode(), T2)
    # When her supervisor judges it justified
    records.decide_episode(_episode_review(), records.episode(AYU, DATE, "e1"), T2)
    # Then the decision is on the episode (and on the date's list), the rest untouched
    e = records.episode(AYU, DATE, "e1")
    assert (e.review.decision, e.review.reviewer, e.review.comment) == ("approved", SUP, "rapat di Gianyar")
    assert e.closed_at == T2 and records.episodes_on(DATE)[0].review == e.review
    last = records.audit_trail(AYU)[-1]
    assert (last.action, last.actor) == ("episode_review_approved", SUP)
    assert last.details["review_id"] == f"w.{AYU}.{DATE}.e1" and last.details["episode_id"] == "e1"
    # And a second decision is already_reviewed, the first standing, nothing more audited
    with pytest.raises(Conflict) as err:
        records.decide_episode(_episode_review("rejected"), _episode(), T2)
    assert err.value.code == "already_reviewed"
    assert records.episode(AYU, DATE, "e1").review.decision == "approved"
    assert [a.action for a in records.audit_trail(AYU)].count("episode_review_approved") == 1


def test_deciding_an_episode_that_is_gone_is_review_not_found_and_writes_nothing(records):
    with pytest.raises(NotFound) as err:
        records.decide_episode(_episode_review(episode_id="gone"), _episode(episode_id="gone"), T2)
    assert err.value.code == "review_not_found"
    assert records.audit_trail(AYU) == []


# --- published rosters ---------------------------------------------------------------------------
UNIT = "Bagian Umum Denpasar"


def roster(**kw) -> PublishedRoster:
    return PublishedRoster(**{"unit": UNIT, "month": "2026-11", "days": ["2026-11-02", "2026-11-03"],
                              "statuses": {AYU: ["WFO", "WFH"], SUP: ["WFH", "leave"]},
                              "document": {"hi": 1, "staff": [{"nip": AYU}]}, "published_at": "",
                              "published_by": "", **kw})


def test_no_roster_is_stored_until_one_is_published(records):
    assert records.roster(UNIT, "2026-11") is None


def test_a_published_roster_is_read_by_unit_and_month_and_each_publish_counts_up(records):
    # Given nothing stored, When a supervisor publishes and then re-publishes naming version 1
    first = records.publish_roster(roster(), None, SUP, T0, details={"first": "2026-11-02"})
    second = records.publish_roster(roster(statuses={AYU: ["WFH", "WFO"], SUP: ["WFO", "leave"]}), 1, "admin", T1)
    # Then the versions count up; one read by key gives the latest, who published it and when
    assert (first.version, second.version) == (1, 2)
    stored = records.roster(UNIT, "2026-11")
    assert stored == second and (stored.published_by, stored.published_at) == ("admin", T1)
    assert (stored.status_on(AYU, "2026-11-02"), stored.status_on(SUP, "2026-11-03")) == ("WFH", "leave")
    assert stored.status_on(AYU, "2026-11-04") is None and stored.status_on("199999", "2026-11-02") is None
    assert stored.document == {"hi": 1, "staff": [{"nip": AYU}]} and stored.roster_id == f"2026-11#{UNIT}"
    assert records.roster(UNIT, "2026-12") is None and records.roster("Other", "2026-11") is None
    # And each publish is audited with the versions around it and its details
    entries = records.audit_log("2026-03-03", "2026-03-03", subject=f"roster#2026-11#{UNIT}").entries
    assert [(e.action, e.actor, e.before, e.after) for e in entries] == [
        ("roster_published", SUP, {"version": None}, {"version": 1}),
        ("roster_published", "admin", {"version": 1}, {"version": 2})]
    assert entries[0].details == {"first": "2026-11-02", "version": 1}


@pytest.mark.parametrize("expected", [None, 1, 3])
def test_a_stale_roster_version_is_roster_changed_and_nothing_is_written(records, expected):
    # Given version 2 stored
    records.publish_roster(roster(), None, SUP, T0)
    records.publish_roster(roster(), 1, SUP, T0)
    # When a publish names another version (none: "create", an older one, a future one)
    with pytest.raises(Conflict) as e:
        records.publish_roster(roster(statuses={AYU: ["WFH", "WFH"], SUP: ["WFO", "leave"]}), expected, "x", T1)
    # Then roster_changed with both versions, the stored roster unchanged and no audit entry added
    assert e.value.code == "roster_changed"
    assert (e.value.details["expected_version"], e.value.details["stored_version"]) == (expected, 2)
    stored = records.roster(UNIT, "2026-11")
    assert stored.version == 2 and stored.statuses[AYU] == ["WFO", "WFH"]
    assert len(records.audit_log("2026-03-03", "2026-03-03", subject=f"roster#2026-11#{UNIT}").entries) == 2


# --- keys that scale (issue 14): the jobs' reads through keys and indexes, paginated ----------------
def nips_of(count: int) -> list[str]:
    return [f"1985020220100410{k:02d}" for k in range(count)]


@pytest.fixture
def small_pages(records, monkeypatch) -> AttendanceRecords:
    """The adapter reading two items a Query page, so that every walk below crosses pages."""
    monkeypatch.setattr(records, "page_size", 2, raising=False)
    return records


def test_offices_in_a_zone_are_listed_by_id_and_follow_their_time_zone(small_pages):
    records = small_pages
    # Given offices in each zone, one of them moved from WITA to WIT
    for office_id, tz in (("b", "Asia/Makassar"), ("a", "Asia/Makassar"), ("c", "Asia/Makassar"),
                          ("jkt", "Asia/Jakarta"), ("moved", "Asia/Makassar")):
        records.put_office(office(office_id, timezone=tz), T0)
    records.put_office(office("moved", timezone="Asia/Jayapura"), T1)
    # Then each zone lists its own offices by id, across pages, whole
    assert [o.office_id for o in records.offices_in_zone("WITA")] == ["a", "b", "c"]
    assert [o.office_id for o in records.offices_in_zone("WIB")] == ["jkt"]
    assert list(records.offices_in_zone("WIT")) == [office("moved", timezone="Asia/Jayapura")]


def test_an_offices_staff_are_those_whose_first_office_it_is_by_nip_across_pages(small_pages):
    records = small_pages
    # Given seven staff of kanwil-bali (written out of order), one whose second office it is,
    # one moved away from it and one in no office
    staff = nips_of(7)
    for n in reversed(staff):
        records.put_employee(employee(n), T0)
    records.put_employee(employee(AYU, office_ids=["kanwil-ntb", "kanwil-bali"]), T0)
    records.put_employee(employee(BUDI), T0)
    records.put_employee(employee(BUDI, office_ids=["kanwil-ntb"]), T1)
    records.put_employee(employee(SUP, office_ids=[]), T0)
    # Then
    found = list(records.staff_in_office("kanwil-bali"))
    assert [e.nip for e in found] == staff
    assert found[0] == records.get_employee(staff[0])
    assert [e.nip for e in records.staff_in_office("kanwil-ntb")] == sorted([AYU, BUDI])
    assert list(records.staff_in_office("nowhere")) == []


def test_staff_in_a_unit_are_listed_by_nip_across_pages(small_pages):
    records = small_pages
    # Given five staff of Bagian Umum (written out of order), one moved to Keuangan, one without
    # a unit and one whose unit is an empty string
    staff = nips_of(5)
    for n in reversed(staff):
        records.put_employee(employee(n, unit="Bagian Umum"), T0)
    records.put_employee(employee(AYU, unit="Bagian Umum"), T0)
    records.put_employee(employee(AYU, unit="Keuangan"), T1)
    records.put_employee(employee(BUDI), T0)
    records.put_employee(employee(SUP, unit=""), T0)
    # Then each unit's staff by NIP, read through the index page by page
    found = list(records.staff_in_unit("Bagian Umum"))
    assert [e.nip for e in found] == staff
    assert found[0] == records.get_employee(staff[0])
    assert [e.nip for e in records.staff_in_unit("Keuangan")] == [AYU]
    assert list(records.staff_in_unit("nowhere")) == []
    assert not records.get_employee(SUP).unit  # stored without a unit: in no unit's staff


def test_days_and_checkins_on_a_date_merge_every_shard_by_nip_across_pages(small_pages):
    records = small_pages
    # Given 40 employees' days on 3 March (spread over several shards) and a day on 4 March,
    # and two attempts each of the first 6 (written out of order)
    from chalicelib.common.resources import date_shard_of
    nips = nips_of(40)
    assert len({date_shard_of(n) for n in nips}) > 10
    for n in reversed(nips):
        records.mark_absent(day(n, DATE, "absent"), T0)
    records.mark_absent(day(nips[0], "2026-03-04", "absent"), T0)
    for k, n in enumerate(nips[:6]):
        for hour, kind in (("09", "out"), ("00", "in")):
            sid = f"s{k}{hour}"
            records.put_session(session(sid, n), EXPIRES)
            at = f"{DATE}T{hour}:00:00.000+00:00"
            records.record_checkin(attempt(sid, n, at, kind), None, sid, at)
    # Then every day of the date, each once, by NIP; every attempt by NIP then instant
    assert [d.nip for d in records.days_on(DATE)] == nips
    assert [(c.nip, c.at[11:13]) for c in records.checkins_on(DATE)] == [
        (n, h) for n in nips[:6] for h in ("00", "09")]
    assert [d.nip for d in records.days_on("2026-03-04")] == [nips[0]]


def test_the_day_index_key_is_the_date_and_the_nips_shard(dynamo):
    # Given a day record written through the adapter
    from chalicelib.adapters.storage.models import AttendanceModel
    from chalicelib.common.resources import DATE_SHARDS, date_shard_key, date_shard_of
    records, settings = dynamo
    _empty_tables(settings)
    records.mark_absent(day(AYU, DATE, "absent"), T0)
    # Then its by_date_shard key names the date and a stable shard in range
    stored = AttendanceModel.get(AYU, f"DAY#{DATE}")
    assert stored.date_shard == date_shard_key(DATE, date_shard_of(AYU)) == f"{DATE}#{date_shard_of(AYU):02d}"
    assert 0 <= date_shard_of(AYU) < DATE_SHARDS and date_shard_of(AYU) == date_shard_of(AYU)


def test_a_ping_context_reads_the_employee_the_state_and_whether_any_request_exists(records):
    # Given Ayu on record, with a latest fix and an open episode; Budi with a request submitted
    records.put_employee(employee(AYU), T0)
    records.put_employee(employee(BUDI, name="Budi"), T0)
    records.record_ping(_ping(T1), P_EXPIRES, not_before=T0)
    records.open_episode(_episode(T1), P_EXPIRES)
    records.extend_episode(_episode(T1), T2)
    records.create_request(request(nip=BUDI), T0)
    # When each one's context is read
    ayu, budi, nobody = (records.ping_context(n) for n in (AYU, BUDI, SUP))
    # Then Ayu's holds her record, her fix and the open episode as it stands; no request
    assert ayu.employee.nip == AYU and ayu.has_requests is False
    assert ayu.state.last.at == T1 and ayu.state.open_episode.episode_id == "e1"
    assert ayu.state.open_episode.pings == 2 and ayu.state.open_episode.last_at == T2
    assert ayu.state == records.ping_state(AYU)
    # and Budi's says he submitted one; no record: no employee, an empty state
    assert budi.employee.name == "Budi" and budi.has_requests is True and budi.state.last is None
    assert nobody.employee is None and nobody.state.last is None and nobody.has_requests is False


def test_the_rate_limit_and_the_open_episode_share_the_state_without_undoing_each_other(records):
    # Given an open episode, then a ping (the latest fix written to the same state)
    assert records.open_episode(_episode(T1), P_EXPIRES) is True
    assert records.record_ping(_ping(T1), P_EXPIRES, not_before=T0) is True
    # When a refused ping and a second opening try come
    assert records.record_ping(_ping(T1, "p2"), P_EXPIRES, not_before=T0) is False
    assert records.open_episode(_episode(T2, "e2"), P_EXPIRES) is False
    # Then the episode is still the open one, the fix still the first; closing keeps the fix
    state = records.ping_state(AYU)
    assert state.open_episode.episode_id == "e1" and state.last.at == T1
    assert records.close_episode(_episode(T1), T2) is True
    after = records.ping_state(AYU)
    assert after.open_episode is None and after.last.at == T1
    assert records.record_ping(_ping(T2, "p3"), P_EXPIRES, not_before=T1) is True


# --- what a check-in reads in one go (issue 14: <= 5 AWS calls) --------------------------------
def recent_entry(at: str = T0, failed: bool = False) -> RecentAttempt:
    return RecentAttempt(at=at, local_date=DATE, lat=-8.65, lon=115.22, face_failed=failed)


def test_the_recent_attempts_are_written_with_the_checkin_at_the_version_read(records):
    # Given Ayu enrolled, with no recent attempts stored yet
    given_enrolled(records)
    records.put_session(session("s1"), EXPIRES)
    records.put_session(session("s2"), EXPIRES)
    assert records.checkin_reads(AYU, "s1", [DATE]).recent is None
    # When a check-in writes them (none stored: version None)
    records.record_checkin(attempt("c1"), day(), "s1", T0, RecentAttempts(entries=[recent_entry()]))
    # Then they are read back with it, at version 1
    assert records.checkin_reads(AYU, "s2", [DATE]).recent == RecentAttempts(entries=[recent_entry()], version=1)
    # And a check-in that read them before (version None) is refused, writing nothing
    with pytest.raises(Conflict) as err:
        records.record_checkin(attempt("c2", decision="rejected"), None, "s2", T1,
                               RecentAttempts(entries=[recent_entry(), recent_entry(T1, failed=True)]))
    assert err.value.code == "concurrent_update"
    assert [c.checkin_id for c in records.checkins_between(AYU, DATE, DATE)] == ["c1"]
    assert not records.get_session("s2").used
    assert records.checkin_reads(AYU, "s2", [DATE]).recent.version == 1


def test_the_personal_sites_are_read_with_the_employee_as_the_site_writes_leave_them(records):
    # Given Ayu, then two sites added and one removed
    records.put_employee(employee(), T0)
    records.put_session(session("s1"), EXPIRES)
    assert records.checkin_reads(AYU, "s1", []).sites == []
    records.add_site(site("home"), SUP, T0)
    records.add_site(site("assignment-1", kind="assignment", work_mode="DL", valid_to=None), SUP, T1)
    records.remove_site(AYU, "home", SUP, T2)
    # Then the check-in's read has what sites_of lists
    read = records.checkin_reads(AYU, "s1", [])
    assert read.sites == records.sites_of(AYU) and [s.site_id for s in read.sites] == ["assignment-1"]
    # And an employee stored after their sites has them too; the directory import keeps them
    records.add_site(site("home", nip=BUDI), SUP, T0)
    records.put_employee(employee(BUDI), T1)
    records.put_employee(employee(BUDI, name="Budi"), T2)
    assert records.checkin_reads(BUDI, "s1", []).sites == records.sites_of(BUDI) != []
    # And no employee: nothing read
    assert records.checkin_reads(SUP, "s1", []).sites is None


def test_the_checkin_records_the_device_use_and_reads_who_used_it_per_date(records):
    # Given a check-in from phone-x on DATE (another person used it before)
    given_enrolled(records)
    records.put_session(session("s1"), EXPIRES)
    records.use_device("phone-x", DATE, BUDI, EXPIRES)
    records.record_checkin(attempt("c1").model_copy(update={"device_id": "phone-x"}), day(), "s1", T0)
    # When read for the candidate dates
    read = records.checkin_reads(AYU, "s1", ["2026-03-02", DATE], device_id="phone-x")
    # Then who used it, per date; no device asked: nothing
    assert read.device_users == {"2026-03-02": [], DATE: sorted([AYU, BUDI])}
    assert records.checkin_reads(AYU, "s1", [DATE]).device_users == {}
