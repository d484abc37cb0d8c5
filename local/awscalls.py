"""Count the AWS API calls the app makes: a botocore ``before-call`` hook (once per API call,
retries not counted again) on every client the app has made and on the sessions it makes them
from, so clients created while counting are counted too. Deterministic; used by bench/checkin.py
and tests/api/test_checkin_calls.py."""
from __future__ import annotations

from collections import Counter
from typing import Any

_ID = "hadir-count-aws-calls"


class AwsCalls:
    """``with AwsCalls() as calls: ...`` then ``calls.total`` and ``calls.by_operation``."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._emitters: list[Any] = []

    def _count(self, model: Any, **_: Any) -> None:
        self.counts[f"{model.service_model.service_name}:{model.name}"] += 1

    def __enter__(self) -> "AwsCalls":
        from chalicelib.adapters import aws
        emitters = [c.meta.events for c in aws._clients.values()]
        emitters += [s._session.get_component("event_emitter") for s in aws._sessions.values()]
        for e in emitters:
            e.register("before-call.*.*", self._count, unique_id=_ID)
        self._emitters = emitters
        return self

    def __exit__(self, *exc: Any) -> None:
        for e in self._emitters:
            e.unregister("before-call.*.*", unique_id=_ID)
        self._emitters = []

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def by_operation(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))
