"""Import jobs in DynamoDB (table ``imports``): the job under ``sk = JOB``, each row's result
under ``sk = ROW#<n>`` (zero-padded: a Query pages them in order).

A row's result is one conditional put (not there yet): a redelivered batch records nothing twice.
A batch's rows are counted into the job once all are recorded, by one update that adds the counts
and the batch's id to ``counted``, conditioned on the id not being there: nothing counted twice,
and no transaction per row.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.adapters.storage.failures import transient
from chalicelib.adapters.storage.models import ImportModel as M
from chalicelib.adapters.storage.models import bind, share_client
from chalicelib.common.errors import HadirError, Kind
from chalicelib.common.resources import IMPORT_DAYS
from chalicelib.common.settings import Settings
from chalicelib.services.records import ImportJob
from chalicelib.services.schemas import ErrorBody, ImportRow

JOB = "JOB"
_JOB_FIELDS = ("state", "total", "plan", "error")


def row_sk(n: int) -> str:
    return f"ROW#{n:09d}"


def _expires(now: str) -> datetime:
    return datetime.fromisoformat(now) + timedelta(days=IMPORT_DAYS)


def retryable(exc: BaseException) -> bool:
    """Throttling and transient AWS failures, raw, wrapped by PynamoDB (``failures.transient``) or
    already translated (Unavailable) by an adapter."""
    if isinstance(exc, HadirError):
        return exc.kind == Kind.UNAVAILABLE
    return transient(exc)


class DynamoImportJobs:
    def __init__(self, settings: Settings, client: Callable[[], Any] | None = None):
        bind(settings)
        if client is not None:
            share_client(client())

    def create(self, job: ImportJob) -> None:
        M(job.import_id, JOB, ttl=_expires(job.created_at), state=job.state, actor=job.actor,
          content_type=job.content_type, created_at=job.created_at, updated_at=job.updated_at,
          done=0, failed=0).save(condition=M.sk.does_not_exist())

    def get(self, import_id: str) -> ImportJob | None:
        try:
            m = M.get(import_id, JOB, consistent_read=True)
        except DoesNotExist:
            return None
        return ImportJob(import_id=m.import_id, state=m.state, actor=m.actor, content_type=m.content_type,
                         created_at=m.created_at, updated_at=m.updated_at,
                         total=int(m.total) if m.total is not None else None,
                         done=int(m.done or 0), failed=int(m.failed or 0), plan=m.plan, error=m.error)

    def update(self, import_id: str, now: str, *, expect: tuple[str, ...] | None = None,
               **fields: Any) -> bool:
        actions = [M.updated_at.set(now)] + [getattr(M, k).set(v) for k, v in fields.items()
                                             if k in _JOB_FIELDS]
        condition = M.sk.exists()
        if expect:
            condition &= M.state.is_in(*expect)
        try:
            M(import_id, JOB).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def record_row(self, import_id: str, row: ImportRow, now: str) -> bool:
        item = M(import_id, row_sk(row.row), ttl=_expires(now), row=row.row, ok=row.ok,
                 nip=row.nip if isinstance(row.nip, str) else None,
                 error=row.error.model_dump(mode="json") if row.error else None)
        try:
            item.save(condition=M.sk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def done_rows(self, import_id: str, first: int, last: int) -> dict[int, bool]:
        return {int(m.row): bool(m.ok) for m in M.query(import_id, M.sk.between(row_sk(first), row_sk(last)),
                                                        consistent_read=True, attributes_to_get=["row", "ok"])}

    def count_batch(self, import_id: str, batch: str, done: int, failed: int, now: str) -> bool:
        actions = [M.done.add(done), M.failed.add(failed), M.counted.add({batch}), M.updated_at.set(now)]
        try:
            M(import_id, JOB).update(actions=actions, condition=M.sk.exists() & ~M.counted.contains(batch))
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def rows(self, import_id: str, after: int, limit: int) -> list[ImportRow]:
        found = M.query(import_id, M.sk.between(row_sk(after + 1), row_sk(10 ** 9 - 1)), limit=limit)
        return [ImportRow(row=int(m.row), nip=m.nip, ok=bool(m.ok),
                          error=ErrorBody(**m.error) if m.error else None) for m in found]

    def retryable(self, exc: Exception) -> bool:
        return retryable(exc)
