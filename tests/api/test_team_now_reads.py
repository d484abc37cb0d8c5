"""GET /team/now reads per call, not per person (issue 13, item 3): the staff's latest fixes and
open episodes in bulk (BatchGetItem), their days in bulk, the requests and offices once."""
from __future__ import annotations

from collections import Counter

from chalicelib import wiring
from chalicelib.adapters.storage.models import PingModel
from chalicelib.services.records import Employee
from tests.api.helpers import AYU, KETUT, MADE
from tests.api.test_pings import TUESDAY_10, UBUD, given_region, ping


def requests_to_dynamodb(api, user) -> tuple[Counter, dict]:
    """The DynamoDB operations GET /team/now sends, by (operation, table), and its body."""
    sent: Counter = Counter()

    def count(model, params, **_):  # the API parameters, before botocore serializes them
        tables = [params["TableName"]] if "TableName" in params else sorted(params.get("RequestItems", {}))
        for t in tables or ["?"]:
            sent[(model.name, t)] += 1
    events = PingModel._get_connection().connection.client.meta.events
    events.register("before-parameter-build.dynamodb", count, unique_id="count-team-now")
    try:
        r = api.get("/team/now", user=user)
    finally:
        events.unregister("before-parameter-build.dynamodb", unique_id="count-team-now")
    assert r.status_code == 200, r.json
    return sent, r.json


def given_more_staff(n: int) -> list[str]:
    """``n`` more of Ketut's staff in Denpasar's office."""
    svc = wiring.get_services()
    nips = [f"19900101202001{i:04d}" for i in range(n)]
    for i, nip in enumerate(nips):
        svc.records.put_employee(Employee(nip=nip, name=f"Staf {i}", unit="Bagian Umum Denpasar",
                                          office_ids=["kantor-denpasar"], supervisor_nip=KETUT), svc.now_iso())
    return nips


def test_team_now_sends_as_many_requests_for_sixty_staff_as_for_two(api, set_now):
    # Given Ayu outside the region (an open episode) and Made online
    clock = set_now(TUESDAY_10)
    given_region(api)
    assert ping(api, at=UBUD).status_code == 201
    assert ping(api, nip=MADE).status_code == 201
    clock.advance(minutes=1)
    few, before = requests_to_dynamodb(api, KETUT)
    # When sixty more join Ketut's staff
    more = given_more_staff(60)
    many, after = requests_to_dynamodb(api, KETUT)
    # Then the reads do not grow per person: the pings table is read by BatchGetItem only
    pings = PingModel.Meta.table_name
    assert {op for op, t in many if t == pings} == {"BatchGetItem"}
    assert many[("BatchGetItem", pings)] <= 3  # 124 keys in blocks of 100, then the open episodes
    assert sum(many.values()) <= sum(few.values()) + 2, (few, many)
    # And the answer is the same for those who were there, every newcomer listed
    def by_nip(body):
        return {s["nip"]: s for s in body["staff"]}
    assert {n: by_nip(after)[n] for n in by_nip(before)} == by_nip(before)
    assert by_nip(after)[AYU]["state"] == "outside_region" and by_nip(after)[MADE]["online"] is True
    assert set(more) <= set(by_nip(after))
