"""Event days in memory: a change made while another admin saved is re-applied to the newer version."""
from datetime import datetime

from chalicelib.common.clock import FixedClock
from chalicelib.common.errors import Conflict
from chalicelib.common.settings import load_settings
from chalicelib.services import events
from chalicelib.services.schemas import EventQuery, EventRequest
from chalicelib.wiring import in_memory
from local.seed import seed
from tests.fakes import FakeEngine


def body(office_id, date, name):
    return EventRequest.model_validate_json(
        '{"office_id": "%s", "date": "%s", "name": "%s", "geofence": {"type": "circle", "lat": -8.6566, '
        '"lon": 115.2166, "radius_m": 150}}' % (office_id, date, name))


def test_a_concurrent_change_is_reapplied_and_neither_is_lost():
    svc = in_memory(load_settings({"HADIR_STAGE": "test"}),
                    clock=FixedClock(datetime.fromisoformat("2026-08-10T09:00:00+08:00")), face_engine_provider=FakeEngine)
    seed(svc)
    real, calls = svc.records.put_agency_config, []

    def racing(kind, document, version, actor, now, details=None):
        calls.append(version)
        if len(calls) == 1:  # another admin's event lands between our read and our write
            real(kind, {"events": [{**body("kantor-jakarta", "2026-08-17", "Upacara Jakarta").model_dump(mode="json"),
                                    "created_by": "admin2", "created_at": now}]}, version, "admin2", now)
        return real(kind, document, version if len(calls) == 1 else version, actor, now, details=details)
    svc.records.put_agency_config = racing
    try:
        events.put_event(svc, body("kantor-denpasar", "2026-08-17", "Upacara Denpasar"), "admin")
    except Conflict:
        raise AssertionError("the change was not re-applied")
    listed = events.list_events(svc, EventQuery())
    assert listed.version == 2 and [e.name for e in listed.events] == ["Upacara Denpasar", "Upacara Jakarta"]
    assert calls == [None, 1]
