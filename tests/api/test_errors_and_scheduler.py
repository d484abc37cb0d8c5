"""The one error mapping (unknown exceptions leak nothing) and the local scheduler's cron matching."""
from datetime import datetime, timezone

from chalicelib.common.resources import SCHEDULES
from local.cron import fires_between
from tests.api.helpers import AYU


def test_an_unexpected_exception_is_a_500_that_leaks_nothing(api, monkeypatch):
    from chalicelib.services import queries

    def boom(*a, **k):
        raise RuntimeError("secret connection string postgres://u:p@host")
    monkeypatch.setattr(queries, "me", boom)
    r = api.get("/me", user=AYU)
    assert r.status_code == 500
    assert r.json == {"error": {"code": "internal_error", "message": "An internal error occurred.",
                                "details": {}}}


def test_absence_wita_fires_at_1030_local_on_weekdays_only():
    s = next(s for s in SCHEDULES if s.handler == "detect_absence_wita")
    tue = fires_between(s, datetime(2026, 3, 3, 0, 0, tzinfo=timezone.utc),
                        datetime(2026, 3, 3, 23, 59, tzinfo=timezone.utc))
    assert [t.isoformat() for t in tue] == ["2026-03-03T02:30:00+00:00"]
    sat = fires_between(s, datetime(2026, 3, 7, 0, 0, tzinfo=timezone.utc),
                        datetime(2026, 3, 7, 23, 59, tzinfo=timezone.utc))
    assert sat == []


def test_export_fires_every_day_after_local_midnight():
    s = next(s for s in SCHEDULES if s.handler == "export_wib")
    fired = fires_between(s, datetime(2026, 3, 6, 12, 0, tzinfo=timezone.utc),
                          datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc))
    assert [t.isoformat() for t in fired] == ["2026-03-06T17:30:00+00:00", "2026-03-07T17:30:00+00:00"]
