"""The demo agency's February 2026 recap, produced through the service, equals the hand-computed
file ``tests/data/recap-pemkab-demo-2026-02.expected.csv`` (the arithmetic per employee in
``tests/data/recap-pemkab-demo-2026-02.md``). recap.csv has no per-run column (the run id is in
the key and the manifest), so every column is compared."""
from pathlib import Path

import pytest

from chalicelib.services.recap import write_recap
from tests.fakes import seeded_services
from tests.services import demo_month

EXPECTED = Path(__file__).parents[1] / "data" / "recap-pemkab-demo-2026-02.expected.csv"


@pytest.fixture
def demo():
    svc = seeded_services("2026-03-02T09:00:00+08:00")
    assert demo_month.seed_month(svc.records) == 7 * 18 - 1 + 3  # Budi's 10 February has no record
    return svc


def test_the_demo_agency_february_recap_equals_the_hand_computed_file(demo):
    # When the admin produces February's recap
    run = write_recap(demo, demo_month.MONTH, "admin")
    # Then recap.csv is the hand-computed file, line by line
    key = next(f.key for f in run.files if f.name == "recap.csv")
    produced = demo.exports.get(key).decode("utf-8").splitlines()
    expected = EXPECTED.read_text(encoding="utf-8").splitlines()
    assert produced[0] == expected[0]
    for got, want in zip(produced[1:], expected[1:]):
        assert got == want, got.split(",", 1)[0]
    assert len(produced) == len(expected)
    # And the personnel agency is told: Ayu 3; Maria 3, 4, 7 and 10 consecutive days
    assert run.discipline_notices == 5
