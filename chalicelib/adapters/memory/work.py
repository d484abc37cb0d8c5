"""Tasks and daily work reports in memory: mixed into ``InMemoryRecords``, behaving as
``adapters/storage/work.py`` does (the contract tests run both)."""
from __future__ import annotations

from chalicelib.adapters import record_errors as errs
from chalicelib.services.records import TaskRecord, WorkReport


def _copy(record):
    return type(record).model_validate(record.model_dump(mode="json"))


class InMemoryWork:
    """Mixed into ``InMemoryRecords`` (``self._lock``, ``self._add_audit``)."""

    @property
    def _work(self) -> dict[tuple[str, str], TaskRecord | WorkReport]:
        if not hasattr(self, "_work_items"):
            self._work_items: dict[tuple[str, str], TaskRecord | WorkReport] = {}
        return self._work_items

    def create_tasks(self, tasks: list[TaskRecord], actor: str, now: str) -> None:
        with self._lock:  # type: ignore[attr-defined]
            if any(("task", t.task_id) in self._keys_of(t.nip) for t in tasks):
                raise errs.concurrent("task")
            for t in tasks:
                self._work[(t.nip, f"task#{t.task_id}")] = _copy(t.model_copy(update={"version": 1}))
                self._add_audit(t.nip, "task_assigned", actor, t.audit_details(), now)  # type: ignore[attr-defined]

    def _keys_of(self, nip: str) -> set[tuple[str, str]]:
        return {tuple(sk.split("#", 1)) for (n, sk) in self._work if n == nip}  # type: ignore[misc]

    def get_task(self, nip: str, task_id: str) -> TaskRecord | None:
        with self._lock:  # type: ignore[attr-defined]
            t = self._work.get((nip, f"task#{task_id}"))
            return _copy(t) if isinstance(t, TaskRecord) else None

    def _tasks(self, keep) -> list[TaskRecord]:
        with self._lock:  # type: ignore[attr-defined]
            found = [t for t in self._work.values() if isinstance(t, TaskRecord) and keep(t)]
            return [_copy(t) for t in sorted(found, key=lambda t: (t.due, t.nip, t.task_id))]

    def tasks_of(self, nip: str) -> list[TaskRecord]:
        return self._tasks(lambda t: t.nip == nip)

    def tasks_of_supervisor(self, supervisor_nip: str, start: str, end: str) -> list[TaskRecord]:
        return self._tasks(lambda t: t.supervisor_nip == supervisor_nip and start <= t.due <= end)

    def tasks_due(self, start: str, end: str) -> list[TaskRecord]:
        return self._tasks(lambda t: start <= t.due <= end)

    def change_task(self, task: TaskRecord, expected_status: str, action: str, actor: str, now: str) -> None:
        with self._lock:  # type: ignore[attr-defined]
            stored = self._work.get((task.nip, f"task#{task.task_id}"))
            if stored is None or stored.status != expected_status or stored.version != task.version:
                raise errs.task_changed(task.task_id)
            self._work[(task.nip, f"task#{task.task_id}")] = _copy(
                task.model_copy(update={"version": (task.version or 0) + 1}))
            self._add_audit(task.nip, action, actor, task.audit_details(), now)  # type: ignore[attr-defined]

    def get_report(self, nip: str, day: str) -> WorkReport | None:
        with self._lock:  # type: ignore[attr-defined]
            r = self._work.get((nip, f"report#{day}"))
            return _copy(r) if isinstance(r, WorkReport) else None

    def _reports(self, keep) -> list[WorkReport]:
        with self._lock:  # type: ignore[attr-defined]
            found = [r for r in self._work.values() if isinstance(r, WorkReport) and keep(r)]
            return [_copy(r) for r in sorted(found, key=lambda r: (r.date, r.nip))]

    def reports_of(self, nip: str, start: str, end: str) -> list[WorkReport]:
        return self._reports(lambda r: r.nip == nip and start <= r.date <= end)

    def reports_of_supervisor(self, supervisor_nip: str, start: str, end: str) -> list[WorkReport]:
        return self._reports(lambda r: r.supervisor_nip == supervisor_nip and start <= r.date <= end)

    def reports_between(self, start: str, end: str) -> list[WorkReport]:
        return self._reports(lambda r: start <= r.date <= end)

    def reports_on(self, nips, dates) -> list[WorkReport]:
        wanted_nips, wanted_dates = set(nips), set(dates)
        return self._reports(lambda r: r.nip in wanted_nips and r.date in wanted_dates)

    def save_report(self, report: WorkReport, expected_status: str | None, action: str, actor: str,
                    now: str) -> None:
        with self._lock:  # type: ignore[attr-defined]
            key = (report.nip, f"report#{report.date}")
            stored = self._work.get(key)
            fresh = stored is None if expected_status is None else (
                stored is not None and stored.status == expected_status and stored.version == report.version)
            if not fresh:
                raise errs.report_changed(report.nip, report.date)
            version = 1 if expected_status is None else (report.version or 0) + 1
            self._work[key] = _copy(report.model_copy(update={"version": version}))
            self._add_audit(report.nip, action, actor, report.audit_details(), now)  # type: ignore[attr-defined]
