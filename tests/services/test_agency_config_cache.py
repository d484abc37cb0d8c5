"""svc.calendar / svc.lateness read the store at most once per HADIR_CONFIG_TTL_S per container,
fall back to the defaults, and fixed ones given by the wiring stay fixed."""
from dataclasses import replace
from datetime import date

import pytest

from chalicelib.adapters.memory.records import InMemoryRecords
from chalicelib.common.settings import get_settings
from chalicelib.policy.calendar import WorkCalendar
from chalicelib.policy.time_rules import LatenessTable
from chalicelib.services.agency_config import PolicyCache
from chalicelib.wiring import in_memory

T0 = "2026-03-03T00:00:00.000+00:00"
TWO_TIERS = {"late": [{"tier": "TL1", "min_minutes": 1, "max_minutes": 60, "percent": 0.5},
                      {"tier": "TL2", "min_minutes": 61, "max_minutes": None, "percent": 1.0}]}


class Ticks:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


@pytest.fixture
def svc():
    return in_memory(get_settings())


def test_nothing_stored_gives_the_defaults(svc):
    assert svc.lateness.classify_late(31)["tier"] == "TL2"
    assert svc.calendar.day_status(date(2026, 3, 23)).reason == "cuti_bersama"
    assert svc.lateness.source == "Permentan 68/2012"


def test_the_store_is_read_once_per_ttl():
    # Given a cache of 60 s over a store, and an admin's table stored
    store, ticks = InMemoryRecords(), Ticks()
    cache = PolicyCache(store, 60, monotonic=ticks)
    assert cache.get("lateness").classify_late(45)["tier"] == "TL2"
    store.put_agency_config("lateness", TWO_TIERS, None, "admin", T0)
    # When asked a thousand times within the minute, Then the store was read once
    for _ in range(1000):
        cache.get("lateness")
    assert cache.reads == 1
    # And after the TTL the stored table applies
    ticks.t = 60.0
    assert cache.get("lateness").classify_late(45)["tier"] == "TL1"
    assert cache.reads == 2


def test_a_cold_cache_reads_every_kind_in_one_batch_and_each_expires_with_its_read():
    # Given a cold cache of 60 s over a store with a lateness table
    store, ticks = InMemoryRecords(), Ticks()
    store.put_agency_config("lateness", TWO_TIERS, None, "admin", T0)
    cache = PolicyCache(store, 60, monotonic=ticks)
    # When a check-in asks for the calendar, then (later in the minute) the lateness table and schedules
    cache.get("calendar")
    ticks.t = 50.0
    assert cache.get("lateness").classify_late(45)["tier"] == "TL1"
    cache.get("schedules")
    # Then the store was read once, for every kind
    assert cache.reads == 1
    # And the lateness table built at 50 s still expires 60 s after its read, not after its build
    store.put_agency_config("lateness", {"late": [{"tier": "TL4", "min_minutes": 1, "max_minutes": None,
                                                   "percent": 1.0}]}, 1, "admin", T0)
    ticks.t = 60.0
    assert cache.get("lateness").classify_late(45)["tier"] == "TL4"
    assert cache.reads == 2


def test_a_ttl_of_zero_reads_on_every_use():
    store = InMemoryRecords()
    cache = PolicyCache(store, 0)
    for _ in range(3):
        cache.get("calendar")
    assert cache.reads == 3


def test_a_change_through_the_use_case_is_seen_at_once_in_this_container(svc):
    from chalicelib.services import agency_config
    from chalicelib.services.schemas import LatenessPut
    assert svc.lateness.classify_late(45)["tier"] == "TL2"
    agency_config.put_lateness(svc, LatenessPut.model_validate(
        {"version": None, "document": {**TWO_TIERS, "early_leave": TWO_TIERS["late"]}}), actor="admin")
    assert svc.lateness.classify_late(45)["tier"] == "TL1"


def test_fixed_ones_stay_fixed_and_a_new_store_gets_its_own_cache(svc):
    fixed = replace(svc, calendar=WorkCalendar(package_cuti_bersama=False), lateness=LatenessTable(grace_minutes=9))
    assert fixed.calendar.day_status(date(2026, 3, 23)).working
    assert fixed.lateness.classify_late(9) is None
    other = replace(svc, records=InMemoryRecords())
    assert other.policy_cache is not svc.policy_cache and other.policy_cache.store is other.records


def test_the_demo_seed_stores_the_decree_calendar_once(svc):
    from local.seed import seed_agency_config
    assert seed_agency_config(svc) == {"calendar": "version 1"}
    assert seed_agency_config(svc) == {"calendar": "kept"}
    stored = svc.records.agency_config("calendar")
    assert len(stored.document["years"]["2026"]["cuti_bersama"]) == 8
    assert svc.calendar.day_status(date(2026, 8, 14), province="51").reason == "regional_holiday"


def test_a_stored_document_invalid_under_todays_rules_falls_back_to_the_defaults():
    # Given a table stored before a rule existed (here: written past the use case's validation)
    store = InMemoryRecords()
    store.put_agency_config("lateness", {"grace_minutes": 999}, None, "admin", T0)
    # Then the defaults apply (logged as an error) instead of every check-in failing
    assert PolicyCache(store, 60).get("lateness") == LatenessTable()


def test_a_checkin_on_an_event_day_reads_the_events_at_most_once_per_ttl():
    # Given a cache of 60 s over a store holding one event
    from chalicelib.services import events as event_days
    from chalicelib.services.agency_config import EVENTS
    store, ticks = InMemoryRecords(), Ticks()
    store.put_agency_config(EVENTS, {"events": [{
        "office_id": "kantor-denpasar", "date": "2026-08-17", "name": "Upacara HUT RI",
        "geofence": {"type": "circle", "lat": -8.6566, "lon": 115.2166, "radius_m": 150}}]}, None, "admin", T0)
    cache = PolicyCache(store, ttl_s=60, monotonic=ticks)

    class Svc:
        policy_cache = cache
    # When a thousand check-ins ask within the TTL, and one after it
    for _ in range(1000):
        assert event_days.book(Svc()).on("kantor-denpasar", "2026-08-17").name == "Upacara HUT RI"
    ticks.t = 61
    event_days.book(Svc())
    # Then the store was read twice
    assert cache.reads == 2


class CountingRecords(InMemoryRecords):
    def __init__(self):
        super().__init__()
        self.office_reads: list[str] = []

    def get_office(self, office_id):
        self.office_reads.append(office_id)
        return super().get_office(office_id)


def test_a_screens_offices_are_read_by_key_once_per_ttl_in_the_order_asked():
    # Given two stored offices and a cache of 60 s
    from chalicelib.services.records import Office
    store, ticks = CountingRecords(), Ticks()
    for office_id in ("kantor-b", "kantor-a"):
        store.put_office(Office(office_id=office_id, name=office_id, timezone="Asia/Makassar",
                                geofence={"lat": -8.67, "lon": 115.21, "radius_m": 100}, rules={}), T0)
    cache = PolicyCache(store, 60, monotonic=ticks)
    # When a team's offices are asked for (repeats and an unknown id among them), twice in the minute
    asked = ["kantor-b", "kantor-x", "kantor-a", "kantor-b"]
    first, again = cache.offices(asked), cache.offices(asked)
    # Then the known ones come back in the order asked, each read once by key
    assert list(first) == ["kantor-b", "kantor-a"] == list(again)
    assert first["kantor-a"].office_id == "kantor-a"
    assert store.office_reads == ["kantor-b", "kantor-x", "kantor-a"]
