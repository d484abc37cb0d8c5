"""Service wiring: one lazily built container per process; tests replace parts of it.

The face engine is reached only through ``Services.face_engine()`` (a provider), so route tests can
inject a fake engine with real behaviour while production loads the ONNX engine once.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from chalicelib.common.settings import Settings, get_settings


class Services:
    def __init__(self, settings: Settings, *, face_engine: Callable[[], Any] | None = None,
                 wall_clock: Callable[[], datetime] | None = None):
        from chalicelib.adapters.storage.repos import Store
        from chalicelib.adapters.uploads import UploadService

        self.settings = settings
        self.store = Store(settings)
        self.wall_clock = wall_clock or (lambda: datetime.now(timezone.utc))
        self.uploads = UploadService(settings, self.store, wall_clock=lambda: self.wall_clock())
        self._face_engine = face_engine

    def face_engine(self) -> Any:
        if self._face_engine is None:
            from chalicelib.face import get_engine
            return get_engine(self.settings.face)
        return self._face_engine()

    def calendar(self) -> Any:
        from chalicelib.policy.calendar import WorkCalendar
        return _calendar(WorkCalendar)

    def lateness(self) -> Any:
        from chalicelib.policy.time_rules import LatenessTable
        return LatenessTable.from_dict({})


_cal: Any = None


def _calendar(cls: Any) -> Any:
    global _cal
    if _cal is None:
        _cal = cls()
    return _cal


_services: Services | None = None
_overrides: dict[str, Any] = {}


def get_services() -> Services:
    global _services
    if _services is None:
        _services = Services(get_settings(), **_overrides)
    return _services


def configure(**overrides: Any) -> None:
    """Replace parts of the wiring (``face_engine=``, ``wall_clock=``) and rebuild lazily."""
    global _services
    _overrides.clear()
    _overrides.update(overrides)
    _services = None


def reset() -> None:
    configure()
