"""The analytics tables: the recap's and the daily export's Parquet files, written by the real
jobs over moto, downloaded into a folder laid out like the bucket and queried by DuckDB (Athena's
stand-in) with the very SQL of docs/analytics/*.sql that docs/analytics.md gives for Athena.

The month is tests/api/test_recap.py's March 2026 (Denpasar, WITA), one day longer: on 5 March
nobody checks in (absence detection marks all three absent). The recap is written twice, on 5
March (through the 4th) and on 2 April (the whole month), and 3 March is exported twice: the
queries must count each partition's latest run only.
"""
from __future__ import annotations

import pathlib

import pytest

from chalicelib.policy import analytics as tables
from chalicelib.wiring import get_services
from tests.api.helpers import AYU, KETUT, MADE
from tests.api.test_jobs import run
from tests.api.test_recap import given_the_month

duckdb = pytest.importorskip("duckdb")
pyarrow_parquet = pytest.importorskip("pyarrow.parquet")

ROOT = pathlib.Path(__file__).resolve().parents[2]
QUERIES = ROOT / "docs" / "analytics"
UNIT = "Bagian Umum Denpasar"
DUCK_TYPES = {tables.STRING: "VARCHAR", tables.INT: "INTEGER", tables.DOUBLE: "DOUBLE",
              tables.BOOLEAN: "BOOLEAN", tables.DATE: "DATE"}


def sql(name: str) -> str:
    return (QUERIES / f"{name}.sql").read_text()


def given_two_recap_runs_and_three_exports(api, set_now):
    given_the_month(api, set_now)
    set_now("2026-03-04T10:31:00+08:00")
    run("export_wita")  # 3 March, twice
    run("export_wita")
    set_now("2026-03-05T09:00:00+08:00")
    run("export_wita")  # 4 March
    assert api.post("/admin/recaps", {"month": "2026-03"}, user="admin").status_code == 201  # through the 4th
    set_now("2026-03-05T10:30:00+08:00")
    run("detect_absence_wita")
    set_now("2026-04-02T09:00:00+08:00")
    r = api.post("/admin/recaps", {"month": "2026-03"}, user="admin")
    assert r.status_code == 201, r.json
    return r.json


def downloaded(root: pathlib.Path) -> pathlib.Path:
    """Every analytics object of the bucket into ``root``, at its key."""
    exports = get_services().exports
    for o in exports.list(tables.ROOT):
        path = root / o.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(exports.get(o.key))
    return root


def athena_stand_in(root: pathlib.Path):
    """DuckDB with one view per Glue table over the downloaded tree, partition columns typed as
    the Glue table's (hive partitioning: the folder names)."""
    con = duckdb.connect()
    for t in tables.TABLES:
        if not (root / t.prefix).exists():
            continue
        types = ", ".join(f"'{p.name}': '{DUCK_TYPES[p.type]}'" for p in t.partitions)
        glob = (root / t.prefix).as_posix() + "/" + "*/" * len(t.partitions) + "*.parquet"
        con.execute(f"CREATE VIEW {t.name} AS SELECT * FROM read_parquet('{glob}', "
                    f"hive_partitioning = true, hive_types = {{{types}}})")
    return con


def rows(con, query: str) -> list[dict]:
    cur = con.execute(query)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


@pytest.fixture
def bucket(api, set_now, tmp_path):
    written = given_two_recap_runs_and_three_exports(api, set_now)
    return written, downloaded(tmp_path)


def test_each_file_has_its_tables_typed_schema_and_the_runs_manifest_lists_it(bucket):
    written, root = bucket
    files = sorted(root.rglob("*.parquet"))
    assert len(files) == 2 * 2 + 3  # two recap runs (recap, units), three export runs
    for path in files:
        table = next(t for t in tables.TABLES if f"/{t.prefix}" in path.as_posix())
        schema = pyarrow_parquet.read_schema(path)
        assert [(f.name, str(f.type)) for f in schema] == [
            (c.name, {"string": "string", "int": "int32", "double": "double", "boolean": "bool",
                      "date": "date32[day]"}[c.type]) for c in table.columns]
    man = get_services().exports.get(next(f["key"] for f in written["files"] if f["name"] == "manifest.json"))
    import hashlib
    import json
    listed = {p["name"]: p for p in json.loads(man)["parquet"]}
    assert set(listed) == {"recap.parquet", "units.parquet"}
    for p in listed.values():
        assert hashlib.sha256((root / p["key"]).read_bytes()).hexdigest() == p["sha256"]


def test_lateness_by_unit_per_month_counts_the_latest_run_only(bucket):
    _, root = bucket
    found = rows(athena_stand_in(root), sql("lateness_by_unit"))
    keys = [(r["agency"], r["year"], r["month"], r["unit"]) for r in found]
    assert len(keys) == len(set(keys)) and ("pemkab-demo", 2026, 3, UNIT) in keys  # one row per unit and month
    [unit] = [r for r in found if r["unit"] == UNIT]
    # Ayu: TL2 on the 3rd, PSW1 on the 3rd and PSW4 (no check-out) on the 4th; absent on the 5th
    # (7.5 %); Made excused, then absent twice (8 %); Ketut absent three times (12 %)
    assert (unit["employees"], unit["days_present"], unit["days_late"], unit["days_early_leave"]) == (3, 2, 1, 2)
    assert unit["late_share"] == 0.5 and unit["mean_cut_percent"] == pytest.approx(round((7.5 + 8 + 12) / 3, 2))


def test_staff_over_a_pp94_threshold_are_those_of_the_latest_run(bucket):
    _, root = bucket
    found = rows(athena_stand_in(root), sql("over_threshold"))
    # Ketut's third absence (5 March) is in the second run only; Made has two, Ayu one
    assert [(r["nip"], r["unit"], r["as_of_month"], r["absent_year_to_date"], r["discipline_level"])
            for r in found] == [(KETUT, UNIT, 3, 3, "oral_warning")]
    assert MADE not in {r["nip"] for r in found} and AYU not in {r["nip"] for r in found}


def test_late_checkins_by_office_count_each_dates_latest_export_run_only(bucket):
    _, root = bucket
    found = rows(athena_stand_in(root), sql("late_checkins_by_office"))
    assert [(r["year"], r["month"], r["checkins"], r["late_checkins"], r["late_minutes"], r["absences"])
            for r in found] == [(2026, 3, 2, 1, 40, 3)]  # Ketut on the 3rd, Made and Ketut on the 4th


def test_the_docs_give_athena_the_same_sql():
    doc = (ROOT / "docs" / "analytics.md").read_text()
    for path in sorted(QUERIES.glob("*.sql")):
        assert path.read_text().strip() in doc, path.name
