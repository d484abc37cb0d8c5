"""Tasks and daily work reports in DynamoDB (the ``work`` table): mixed into ``DynamoRecords``.

Keys: ``(nip, task#<id>)`` and ``(nip, report#<date>)``; the by_supervisor index lists a
supervisor's staff's items over dates (``team_sk = <kind>#<date>#<nip>...``), by_month an admin's
month (``month_key = <kind>#YYYY-MM``). Every change is one transaction with its audit entry,
conditioned on the state and the version read (VersionAttribute).
"""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters import record_errors as errs
from chalicelib.adapters.storage.models import WorkModel
from chalicelib.common.errors import Conflict
from chalicelib.services.records import TaskRecord, WorkReport

TASK, REPORT = "task", "report"


def months(start: str, end: str) -> list[str]:
    """Every YYYY-MM from ``start``'s month through ``end``'s."""
    (y, m), last = (int(start[:4]), int(start[5:7])), (int(end[:4]), int(end[5:7]))
    out = []
    while (y, m) <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _task_model(t: TaskRecord) -> WorkModel:
    return WorkModel(t.nip, f"{TASK}#{t.task_id}", status=t.status, supervisor_nip=t.supervisor_nip,
                     team_sk=f"{TASK}#{t.due}#{t.nip}#{t.task_id}", month_key=f"{TASK}#{t.due[:7]}",
                     day_key=f"{t.due}#{t.nip}#{t.task_id}", data=t.model_dump(mode="json", exclude={"version"}))


def _report_model(r: WorkReport) -> WorkModel:
    return WorkModel(r.nip, f"{REPORT}#{r.date}", status=r.status, supervisor_nip=r.supervisor_nip,
                     team_sk=f"{REPORT}#{r.date}#{r.nip}", month_key=f"{REPORT}#{r.date[:7]}",
                     day_key=f"{r.date}#{r.nip}", data=r.model_dump(mode="json", exclude={"version"}))


def _task(m: WorkModel) -> TaskRecord:
    return TaskRecord.model_validate({**(m.data or {}), "version": m.version})


def _report(m: WorkModel) -> WorkReport:
    return WorkReport.model_validate({**(m.data or {}), "version": m.version})


class DynamoWork:
    """Mixed into ``DynamoRecords`` (``self._conn``, ``self._agency``)."""

    def _work_commit(self, model: WorkModel, condition, nip: str, action: str, actor: str, details, now: str,
                     error: Conflict) -> None:
        from chalicelib.adapters.storage.records import _audit, _commit, _Write  # a mixin of that module
        model.agency_id = self._agency  # type: ignore[attr-defined]
        _commit(self._conn, [_Write("work", "put", model, condition),  # type: ignore[attr-defined]
                             _Write("audit", "put", _audit(nip, action, actor, details, now))], {"work": error})

    # --- tasks ---------------------------------------------------------------------------------
    def create_tasks(self, tasks: list[TaskRecord], actor: str, now: str) -> None:
        from chalicelib.adapters.storage.records import _audit, _commit, _Write
        writes = []
        for t in tasks:
            m = _task_model(t)
            m.agency_id = self._agency  # type: ignore[attr-defined]
            writes += [_Write(f"task#{t.task_id}", "put", m, WorkModel.sk.does_not_exist()),
                       _Write("audit", "put", _audit(t.nip, "task_assigned", actor, t.audit_details(), now))]
        _commit(self._conn, writes, {f"task#{t.task_id}": errs.concurrent("task") for t in tasks})  # type: ignore

    def get_task(self, nip: str, task_id: str) -> TaskRecord | None:
        try:
            return _task(WorkModel.get(nip, f"{TASK}#{task_id}", consistent_read=True))
        except DoesNotExist:
            return None

    def tasks_of(self, nip: str) -> list[TaskRecord]:
        return _by_due(_task(m) for m in WorkModel.query(nip, WorkModel.sk.startswith(f"{TASK}#")))

    def tasks_of_supervisor(self, supervisor_nip: str, start: str, end: str) -> list[TaskRecord]:
        return _by_due(_task(m) for m in _of_supervisor(TASK, supervisor_nip, start, end))

    def tasks_due(self, start: str, end: str) -> list[TaskRecord]:
        return _by_due(_task(m) for m in _by_months(TASK, start, end))

    def change_task(self, task: TaskRecord, expected_status: str, action: str, actor: str, now: str) -> None:
        m = _task_model(task)
        m.version = task.version
        self._work_commit(m, WorkModel.status == expected_status, task.nip, action, actor, task.audit_details(),
                          now, errs.task_changed(task.task_id))

    # --- daily work reports --------------------------------------------------------------------
    def get_report(self, nip: str, day: str) -> WorkReport | None:
        try:
            return _report(WorkModel.get(nip, f"{REPORT}#{day}", consistent_read=True))
        except DoesNotExist:
            return None

    def reports_of(self, nip: str, start: str, end: str) -> list[WorkReport]:
        q = WorkModel.query(nip, WorkModel.sk.between(f"{REPORT}#{start}", f"{REPORT}#{end}"))
        return [_report(m) for m in q]

    def reports_of_supervisor(self, supervisor_nip: str, start: str, end: str) -> list[WorkReport]:
        return _by_date(_report(m) for m in _of_supervisor(REPORT, supervisor_nip, start, end))

    def reports_between(self, start: str, end: str) -> list[WorkReport]:
        return _by_date(_report(m) for m in _by_months(REPORT, start, end))

    def reports_on(self, nips: Sequence[str], dates: Sequence[str]) -> list[WorkReport]:
        keys = sorted({(n, f"{REPORT}#{d}") for n in nips for d in dates})
        return _by_date(_report(m) for m in WorkModel.batch_get(keys)) if keys else []

    def save_report(self, report: WorkReport, expected_status: str | None, action: str, actor: str,
                    now: str) -> None:
        m = _report_model(report)
        if expected_status is not None:
            m.version = report.version  # the put is conditioned on it (a new item: on none)
        condition = WorkModel.sk.does_not_exist() if expected_status is None else WorkModel.status == expected_status
        self._work_commit(m, condition, report.nip, action, actor, report.audit_details(), now,
                          errs.report_changed(report.nip, report.date))


def _of_supervisor(kind: str, supervisor_nip: str, start: str, end: str) -> Iterable[WorkModel]:
    """The ``kind`` items (TASK, REPORT) of a supervisor's team dated start..end (by_supervisor)."""
    return WorkModel.by_supervisor.query(supervisor_nip, WorkModel.team_sk.between(f"{kind}#{start}",
                                                                                  f"{kind}#{end}#~"))


def _by_months(kind: str, start: str, end: str) -> Iterator[WorkModel]:
    """The ``kind`` items dated start..end, one by_month query per month."""
    return (m for month in months(start, end)
            for m in WorkModel.by_month.query(f"{kind}#{month}", WorkModel.day_key.between(start, f"{end}#~")))


def _by_due(tasks: Iterable[TaskRecord]) -> list[TaskRecord]:
    return sorted(tasks, key=lambda t: (t.due, t.nip, t.task_id))


def _by_date(reports: Iterable[WorkReport]) -> list[WorkReport]:
    return sorted(reports, key=lambda r: (r.date, r.nip))
