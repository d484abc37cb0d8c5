"""ImportJobs and ImportQueue in memory, behaving as the DynamoDB and SQS adapters do."""
from __future__ import annotations

import threading
from typing import Any

from chalicelib.common.errors import HadirError, JsonObject, Kind
from chalicelib.services.records import ImportJob
from chalicelib.services.schemas import ImportRow


class InMemoryImportJobs:
    def __init__(self) -> None:
        self.jobs: dict[str, ImportJob] = {}
        self.results: dict[str, dict[int, ImportRow]] = {}
        self.counted: dict[str, set[str]] = {}  # the batches counted into each job
        self._lock = threading.Lock()

    def create(self, job: ImportJob) -> None:
        with self._lock:
            assert job.import_id not in self.jobs
            self.jobs[job.import_id] = job
            self.results[job.import_id] = {}

    def get(self, import_id: str) -> ImportJob | None:
        return self.jobs.get(import_id)

    def update(self, import_id: str, now: str, *, expect: tuple[str, ...] | None = None,
               **fields: Any) -> bool:
        with self._lock:
            job = self.jobs.get(import_id)
            if job is None or (expect and job.state not in expect):
                return False
            keep = {k: v for k, v in fields.items() if k in ("state", "total", "plan", "error")}
            self.jobs[import_id] = job.model_copy(update={**keep, "updated_at": now})
            return True

    def record_row(self, import_id: str, row: ImportRow, now: str) -> bool:
        with self._lock:
            if row.row in self.results[import_id]:
                return False
            self.results[import_id][row.row] = row
            return True

    def done_rows(self, import_id: str, first: int, last: int) -> dict[int, bool]:
        return {n: r.ok for n, r in self.results.get(import_id, {}).items() if first <= n <= last}

    def count_batch(self, import_id: str, batch: str, done: int, failed: int, now: str) -> bool:
        with self._lock:
            job, counted = self.jobs.get(import_id), self.counted.setdefault(import_id, set())
            if job is None or batch in counted:
                return False
            counted.add(batch)
            self.jobs[import_id] = job.model_copy(update={"done": job.done + done, "failed": job.failed + failed,
                                                          "updated_at": now})
            return True

    def rows(self, import_id: str, after: int, limit: int) -> list[ImportRow]:
        found = sorted(n for n in self.results.get(import_id, {}) if n > after)[:limit]
        return [self.results[import_id][n] for n in found]

    def retryable(self, exc: Exception) -> bool:
        return isinstance(exc, HadirError) and exc.kind == Kind.UNAVAILABLE


class InMemoryImportQueue:
    """The queue's messages, in order; ``take()`` hands them to a test's consumer."""

    def __init__(self) -> None:
        self.messages: list[JsonObject] = []

    def send(self, messages: list[JsonObject]) -> None:
        self.messages.extend(messages)

    def take(self) -> list[JsonObject]:
        out, self.messages = self.messages, []
        return out
