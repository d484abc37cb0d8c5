"""Where a request's time goes, for the ``Server-Timing`` header and the log: named spans that add
up, so the use case reads as its steps rather than as pairs of ``perf_counter`` calls."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Timer:
    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._spans: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self._spans[name] = self._spans.get(name, 0.0) + time.perf_counter() - t

    def done(self) -> dict[str, float]:
        """Milliseconds per span and in total (rounded to 0.01 ms)."""
        spans = {k: round(v * 1000, 2) for k, v in self._spans.items()}
        return {**spans, "total": round((time.perf_counter() - self._start) * 1000, 2)}
