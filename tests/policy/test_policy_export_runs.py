"""Run ids of the write-once export: they sort as the runs were made, even under a frozen or
stepped-back clock, and a key names its run."""
from datetime import datetime, timedelta, timezone

from chalicelib.policy.export import chain, run_id, run_of

NOW = datetime(2026, 3, 4, 0, 31, tzinfo=timezone(timedelta(hours=8)))


def test_a_run_id_is_the_utc_instant_then_the_token():
    assert run_id(NOW, "ab12") == "20260303T163100000000Z-ab12"


def test_a_run_id_is_later_than_the_run_it_chains_to_whatever_the_clock_says():
    first = run_id(NOW, "ffff")
    # Given the same instant (a frozen clock) or an earlier one (a clock stepped back)
    same, back = run_id(NOW, "0000", after=first), run_id(NOW - timedelta(hours=1), "0000", after=first)
    # Then still later, by a microsecond
    assert first < same and first < back and same == back == "20260303T163100000001Z-0000"


def test_a_key_names_its_run():
    assert run_of("attendance/date=2026-03-03/agency=a/run=20260303T163100000000Z-ab12/records.csv") \
        == "20260303T163100000000Z-ab12"
    assert run_of("attendance/date=2026-03-03/agency=a/records.csv") is None


def test_the_chained_manifest_vouches_for_each_file():
    man = chain({"rows": 0}, run="r", zone="WIB", sequence=2, previous_sha256="p" * 64,
                files={"records.csv": b"nip\r\n", "audit.csv": b""})
    assert (man["run_id"], man["zone"], man["run_sequence"], man["previous_manifest_sha256"]) == \
        ("r", "WIB", 2, "p" * 64)
    assert [(f["name"], f["bytes"]) for f in man["files"]] == [("records.csv", 5), ("audit.csv", 0)]
    assert man["files"][1]["sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
