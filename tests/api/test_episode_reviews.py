"""Episodes as evidence in the review queue (issue 13, item 2): an out-of-region (or away-from-home)
episode of a supervisor's own staff waits in GET /team/reviews with its pings, and is judged
justified (approve) or unjustified (reject, with a reason): stored on the episode, audited, told."""
from __future__ import annotations

import pytest

from tests.api.helpers import ANDI, AYU, BUDI, KETUT, MADE
from tests.api.test_pings import TUESDAY_10, UBUD, given_region, ping

WINDOW = "?from=2026-03-01&to=2026-03-04"


def queue(api, user):
    unit = "&unit=Bagian Umum Denpasar" if user == "admin" else ""  # an admin names the unit
    r = api.get("/team/reviews" + WINDOW + unit, user=user)
    assert r.status_code == 200, r.json
    return r.json["items"]


def episodes_in_queue(api, user):
    return [i for i in queue(api, user) if i["kind"] == "episode"]


def given_an_episode(api, set_now, outside=3, back=True):
    """Ayu pings ``outside`` times beyond Kota Denpasar (one a minute), then (``back``) once inside."""
    clock = set_now(TUESDAY_10)
    given_region(api)
    first = None
    for _ in range(outside):
        r = ping(api, at=UBUD)
        assert r.status_code == 201, r.json
        first = first or r.json["episode"]
        clock.advance(seconds=61)
    if back:
        assert ping(api).json["closed_episode_id"] == first["episode_id"]
    return first["episode_id"]


def decide(api, review_id, user=KETUT, **body):
    return api.post(f"/team/reviews/{review_id}", body or {"decision": "approve"}, user=user)


def test_an_episode_waits_in_its_supervisors_queue_with_its_pings_as_evidence(api, set_now):
    # Given Ayu left the region for three pings and came back
    episode_id = given_an_episode(api, set_now)
    # When her supervisor opens the review queue
    [item] = episodes_in_queue(api, KETUT)
    # Then the item is the episode's, named so a link is enough
    assert item["review_id"] == f"w.{AYU}.2026-03-03.{episode_id}"
    assert (item["nip"], item["kind"]) == (AYU, "episode") and item["since"] == item["episode"]["opened_at"]
    e = item["episode"]
    assert e["kind"] == "outside_region" and e["closed_at"] is not None and e["review"] is None
    assert e["first"]["lat"] == UBUD["lat"] and e["first"]["reasons"][0]["code"] == "outside_region"
    # And its pings are the evidence: positions, accuracy, times and reasons
    assert len(e["evidence"]) == 4 and [p["outside"] for p in e["evidence"]] == [True, True, True, False]
    assert all(p["accuracy_m"] == 8 and p["at"] and p["reasons"] for p in e["evidence"])
    assert e["evidence"][0]["lon"] == UBUD["lon"]


def test_an_episode_still_open_waits_too(api, set_now):
    # Given Ayu is outside the region right now
    episode_id = given_an_episode(api, set_now, outside=1, back=False)
    # When her supervisor looks; then the open episode is there to decide
    [item] = episodes_in_queue(api, KETUT)
    assert item["episode"]["episode_id"] == episode_id and item["episode"]["closed_at"] is None


def test_judging_an_episode_justified_stores_audits_tells_and_leaves_the_queue(api, set_now):
    # Given an episode in Ketut's queue
    given_an_episode(api, set_now)
    [item] = episodes_in_queue(api, KETUT)
    # When he judges it justified
    r = decide(api, item["review_id"], decision="approve", comment="Rapat di Kantor Bupati Gianyar")
    # Then it is decided by him, and no longer waits
    assert r.status_code == 200, r.json
    assert (r.json["kind"], r.json["decision"], r.json["comment"]) == ("episode", "approved",
                                                                      "Rapat di Kantor Bupati Gianyar")
    assert r.json["day_status"] is None
    assert episodes_in_queue(api, KETUT) == []
    # And the decision is kept on the episode
    [listed] = api.get("/team/episodes?date=2026-03-03", user=KETUT).json["episodes"]
    assert listed["review_id"] == item["review_id"]
    assert listed["review"]["decision"] == "approved" and listed["review"]["reviewer"]
    # And audited
    log = api.get("/audit/log?from=2026-03-03&to=2026-03-03", user="auditor").json["entries"]
    [entry] = [x for x in log if x["action"] == "episode_review_approved"]
    assert entry["details"]["review_id"] == item["review_id"] and entry["details"]["episode_kind"] == "outside_region"
    # And Ayu is told
    told = api.get("/me/notifications", user=AYU).json["items"]
    [notice] = [n for n in told if n["ref"] == item["review_id"]]
    assert notice["topic"] == "review_decided" and notice["details"]["decision"] == "approved"
    assert "justified" in notice["message"]


def test_judging_an_episode_unjustified_needs_a_reason(api, set_now):
    given_an_episode(api, set_now)
    [item] = episodes_in_queue(api, KETUT)
    # When rejected without a reason, then refused and nothing written
    bare = decide(api, item["review_id"], decision="reject")
    assert (bare.status_code, bare.json["error"]["code"]) == (422, "comment_required")
    assert len(episodes_in_queue(api, KETUT)) == 1
    # When with one, then rejected (unjustified)
    r = decide(api, item["review_id"], decision="reject", comment="Tidak ada izin keluar daerah")
    assert r.status_code == 200 and r.json["decision"] == "rejected"
    told = api.get("/me/notifications", user=AYU).json["items"]
    assert any(n["ref"] == item["review_id"] and "unjustified" in n["message"] for n in told)


def test_an_episode_is_decided_once(api, set_now):
    given_an_episode(api, set_now)
    [item] = episodes_in_queue(api, KETUT)
    assert decide(api, item["review_id"]).status_code == 200
    # When decided again (either way)
    again = decide(api, item["review_id"], decision="reject", comment="changed my mind")
    # Then 409, and the first decision stands
    assert (again.status_code, again.json["error"]["code"]) == (409, "review_not_pending")
    [listed] = api.get("/team/episodes?date=2026-03-03", user=KETUT).json["episodes"]
    assert listed["review"]["decision"] == "approved"


def test_another_units_supervisor_never_sees_nor_decides_an_episode(api, set_now):
    # Given Ayu's episode (Ketut's staff)
    given_an_episode(api, set_now)
    [item] = episodes_in_queue(api, KETUT)
    # When Budi (Jakarta) looks and tries; then nothing to see and 403 not_your_staff
    assert episodes_in_queue(api, BUDI) == []
    r = decide(api, item["review_id"], user=BUDI)
    assert (r.status_code, r.json["error"]["code"]) == (403, "not_your_staff")
    # And an employee may neither read the queue nor decide
    assert api.get("/team/reviews", user=MADE).status_code == 403
    assert decide(api, item["review_id"], user=MADE).status_code == 403
    # And it still waits for Ketut; an admin sees it too
    assert len(episodes_in_queue(api, KETUT)) == 1
    assert [i["nip"] for i in episodes_in_queue(api, "admin")] == [AYU]


def test_an_admin_may_decide_an_episode(api, set_now):
    given_an_episode(api, set_now)
    [item] = episodes_in_queue(api, "admin")
    assert decide(api, item["review_id"], user="admin").json["decision"] == "approved"


@pytest.mark.parametrize("forge", [
    lambda eid: f"w.{AYU}.2026-03-03.{'0' * 32}",  # no such episode
    lambda eid: f"w.{AYU}.2026-03-04.{eid}",  # another date
    lambda eid: f"w.{MADE}.2026-03-03.{eid}",  # another employee's name on it
    lambda eid: f"w.{AYU}.2026-03-03.{eid.upper()}",  # not the id's form
    lambda eid: f"w.{AYU}.2026-3-3.{eid}",
    lambda eid: f"w.{AYU}.2026-03-03.{eid}.x",
    lambda eid: f"x.{AYU}.2026-03-03.{eid}",
])
def test_a_forged_episode_review_id_is_review_not_found(api, set_now, forge):
    episode_id = given_an_episode(api, set_now)
    r = decide(api, forge(episode_id))
    assert (r.status_code, r.json["error"]["code"]) == (404, "review_not_found"), r.json
    assert len(episodes_in_queue(api, KETUT)) == 1


def test_another_supervisors_staff_named_in_a_forged_id_is_not_your_staff(api, set_now):
    # Given an episode id of Ayu's with Andi (Budi's staff) named instead, decided by Ketut
    episode_id = given_an_episode(api, set_now)
    r = decide(api, f"w.{ANDI}.2026-03-03.{episode_id}")
    # Then refused as not his staff before anything of Andi's is looked up
    assert (r.status_code, r.json["error"]["code"]) == (403, "not_your_staff")

