"""The ``WorkStore`` port (tasks and daily work reports) against both adapters: DynamoDB (in moto)
and in memory, with the fixtures of ``test_records.py``."""
from __future__ import annotations

import pytest

from chalicelib.common.errors import Conflict
from chalicelib.services.records import Attachment, TaskRecord, WorkEvent, WorkReport
from tests.contract import test_records as base
from tests.contract.test_records import AYU, BUDI, SUP, T0, T1, actions

dynamo, backend, records = base.dynamo, base.backend, base.records  # the same two adapters, same fixtures

OTHER_SUP = "196901011990031001"


def task(task_id="tk-" + "a" * 20, nip=AYU, due="2026-03-05", supervisor=SUP, **kw) -> TaskRecord:
    return TaskRecord(**{"task_id": task_id, "nip": nip, "supervisor_nip": supervisor, "title": "Rekap",
                         "due": due, "events": [WorkEvent(action="assigned", by="sup", by_nip=supervisor, at=T0)],
                         "created_at": T0, "updated_at": T0, **kw})


def report(nip=AYU, date="2026-03-03", supervisor=SUP, **kw) -> WorkReport:
    return WorkReport(**{"nip": nip, "date": date, "supervisor_nip": supervisor, "text": "Rekap surat",
                         "attachments": [Attachment(key=f"work-attachments/{nip}/report/{date}/u1",
                                                    content_type="application/pdf", bytes=10, upload_id="u" * 32,
                                                    uploaded_at=T0)],
                         "created_at": T0, "updated_at": T0, **kw})


def test_tasks_are_created_together_audited_and_read_back(records):
    # Given two tasks of one assignment (Ayu's and Budi's)
    records.create_tasks([task(), task("tk-" + "b" * 20, nip=BUDI)], "sup", T0)
    # Then each is read by owner and id, versioned, and its assignment audited
    got = records.get_task(AYU, "tk-" + "a" * 20)
    assert got is not None and got.status == "open" and got.version == 1 and got.title == "Rekap"
    assert records.get_task(BUDI, "tk-" + "a" * 20) is None  # another's id under one's own NIP
    assert [t.task_id for t in records.tasks_of(BUDI)] == ["tk-" + "b" * 20]
    assert actions(records, AYU) == ["task_assigned"] and actions(records, BUDI) == ["task_assigned"]


def test_a_task_exists_once(records):
    records.create_tasks([task()], "sup", T0)
    with pytest.raises(Conflict):
        records.create_tasks([task("tk-" + "c" * 20), task()], "sup", T1)
    assert records.get_task(AYU, "tk-" + "c" * 20) is None  # all or nothing


def test_a_task_changes_only_from_the_state_and_version_read(records):
    records.create_tasks([task()], "sup", T0)
    read = records.get_task(AYU, "tk-" + "a" * 20)
    submitted = read.model_copy(update={"status": "submitted"})
    records.change_task(submitted, "open", "task_submitted", AYU, T1)
    assert records.get_task(AYU, read.task_id).status == "submitted"
    # A second change from the same (stale) read is refused, whatever it claims
    for expected in ("open", "submitted"):
        with pytest.raises(Conflict) as exc:
            records.change_task(read.model_copy(update={"status": "accepted"}), expected, "task_accepted", "sup", T1)
        assert exc.value.code == "task_transition_invalid"
    assert actions(records, AYU) == ["task_assigned", "task_submitted"]


def test_team_and_admin_task_reads_by_due_date(records):
    records.create_tasks([task(due="2026-03-05"), task("tk-" + "b" * 20, due="2026-04-02"),
                          task("tk-" + "c" * 20, nip=BUDI, supervisor=OTHER_SUP, due="2026-03-10")], "sup", T0)
    assert [t.task_id for t in records.tasks_of_supervisor(SUP, "2026-03-01", "2026-03-31")] == ["tk-" + "a" * 20]
    assert [t.task_id for t in records.tasks_of_supervisor(SUP, "2026-03-01", "2026-04-30")] == [
        "tk-" + "a" * 20, "tk-" + "b" * 20]
    assert [t.due for t in records.tasks_due("2026-03-05", "2026-04-02")] == ["2026-03-05", "2026-03-10", "2026-04-02"]
    assert records.tasks_due("2026-03-06", "2026-03-09") == []


def test_a_report_is_created_once_then_replaced_from_the_state_read(records):
    records.save_report(report(), None, "report_submitted", AYU, T0)
    with pytest.raises(Conflict) as exc:
        records.save_report(report(), None, "report_submitted", AYU, T0)  # a racing first write
    assert exc.value.code == "report_changed"
    read = records.get_report(AYU, "2026-03-03")
    assert read.version == 1 and read.attachments[0].content_type == "application/pdf"
    records.save_report(read.model_copy(update={"status": "accepted"}), "submitted", "report_accepted", "sup", T1)
    with pytest.raises(Conflict):  # stale: read before the acceptance
        records.save_report(read.model_copy(update={"text": "ubah"}), "submitted", "report_resubmitted", AYU, T1)
    assert records.get_report(AYU, "2026-03-03").status == "accepted"
    assert actions(records, AYU) == ["report_submitted", "report_accepted"]


def test_reports_by_employee_by_supervisor_and_by_month(records):
    for nip, date, sup in ((AYU, "2026-03-02", SUP), (AYU, "2026-03-03", SUP), (BUDI, "2026-03-03", SUP),
                           (AYU, "2026-04-01", SUP), ("199202022020012002", "2026-03-03", OTHER_SUP)):
        records.save_report(report(nip, date, sup), None, "report_submitted", nip, T0)
    assert [r.date for r in records.reports_of(AYU, "2026-03-01", "2026-03-31")] == ["2026-03-02", "2026-03-03"]
    # The supervisor's staff over a period (the recap's read) and on one date (the team view's)
    assert [(r.nip, r.date) for r in records.reports_of_supervisor(SUP, "2026-03-01", "2026-04-30")] == [
        (AYU, "2026-03-02"), (BUDI, "2026-03-03"), (AYU, "2026-03-03"), (AYU, "2026-04-01")]  # by date, NIP
    assert [r.nip for r in records.reports_of_supervisor(SUP, "2026-03-03", "2026-03-03")] == [BUDI, AYU]
    assert len(records.reports_between("2026-03-03", "2026-03-03")) == 3
    assert len(records.reports_between("2026-03-01", "2026-04-30")) == 5


def test_reports_on_reads_the_named_employees_days_by_key_whoever_supervised_them(records):
    # Given reports of two employees on two dates, one filed under another supervisor
    for nip, date, sup in ((AYU, "2026-03-02", SUP), (AYU, "2026-03-03", OTHER_SUP), (BUDI, "2026-03-03", SUP),
                           ("199202022020012002", "2026-03-03", SUP)):
        records.save_report(report(nip, date, sup), None, "report_submitted", nip, T0)
    # When the reports of AYU and BUDI on 03-03 (and a date without any) are read by their keys
    found = records.reports_on([AYU, BUDI, AYU], ["2026-03-03", "2026-03-04"])
    # Then exactly those that exist come back, by (date, NIP), the other employee's never
    assert [(r.nip, r.date, r.supervisor_nip) for r in found] == [(BUDI, "2026-03-03", SUP),
                                                                 (AYU, "2026-03-03", OTHER_SUP)]
    assert records.reports_on([], ["2026-03-03"]) == [] and records.reports_on([AYU], []) == []
