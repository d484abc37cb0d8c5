"""The analytics tables (Parquet, read by Athena and, in the tests, DuckDB): one schema per table,
the single source of truth for the writer (services/analytics.py), the Glue tables in the CDK app
(infra/hadir_infra/analytics.py) and the tests.

Pure: column names and types only (no pyarrow). A run's Parquet files live in their own tree,
``analytics/<table>/<partition keys>/run=<run_id>.parquet``: Athena reads every object under a
partition's location as the table's format, so they cannot sit beside the run's CSVs and
manifest. One file per run, write-once like every export, named by the run id, and the run id is
also a column (``run_id``): the queries keep the latest run of each partition (docs/analytics.md).
The run's manifest lists each file with its key and SHA-256 (``parquet``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from chalicelib.common.errors import JsonObject
from chalicelib.policy import recap as rp

# Glue / Athena type names; services/analytics.py maps them to Arrow types.
STRING, INT, DOUBLE, BOOLEAN, DATE = "string", "int", "double", "boolean", "date"
TYPES = (STRING, INT, DOUBLE, BOOLEAN, DATE)
ROOT = "analytics/"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str = ""


@dataclass(frozen=True)
class Table:
    name: str  # the Glue table's, and the folder under analytics/
    columns: tuple[Column, ...]
    partitions: tuple[Column, ...]  # in key order, hive style (name=value)

    @property
    def prefix(self) -> str:
        return f"{ROOT}{self.name}/"

    def key(self, values: Mapping[str, object], run: str) -> str:
        parts = "".join(f"{p.name}={_partition_value(p, values[p.name])}/" for p in self.partitions)
        return f"{self.prefix}{parts}run={run}.parquet"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _partition_value(p: Column, value: object) -> str:
    if p.name == "month":
        return f"{int(value):02d}"  # type: ignore[call-overload]
    if p.name == "year":
        return f"{int(value):04d}"  # type: ignore[call-overload]
    return value.isoformat() if isinstance(value, date) else str(value)


def _ints(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, INT) for n in names)


_DAY_COUNTS = ("days_present", *[f"days_{m.lower()}" for m in rp.WORK_MODES], "days_mode_unknown",
               "days_late", "days_early_leave", "days_pending_review", "days_excused", "days_on_leave",
               "days_official_travel", "absent_with_notice", "absent_without_notice", "days_unrecorded")
_RUN = (Column("run_id", STRING, "the run that wrote the row: keep the latest per partition"),
        Column("period_from", DATE), Column("period_through", DATE, "the last day counted"))
_MONTH = (Column("year", INT), Column("month", INT), Column("agency", STRING))

RECAP = Table("recap", (
    Column("nip", STRING), Column("name", STRING), Column("unit", STRING), Column("working_days", INT),
    *_ints(*_DAY_COUNTS),
    Column("tiers", STRING, "days per TL/PSW tier of the agency's table, JSON"),
    Column("leave_by_type", STRING, "JSON"),
    Column("cut_percent", DOUBLE), Column("cut_capped", BOOLEAN),
    Column("absent_year_to_date", INT, "PP 94/2021: unexcused absence days this year"),
    Column("discipline_level", STRING, "the PP 94/2021 level the count reaches, or null"),
    Column("consecutive_absent_days", INT, "PP 94/2021: the longest run of 10+ consecutive unexcused "
           "absent working days reaching into the period (0: none)"),
    Column("consecutive_absence", STRING, "that run's dates, JSON"),
    Column("cut_reasons", STRING, "JSON"),
    *_ints("reports_required", "reports_submitted", "reports_accepted", "reports_missing"), *_RUN), _MONTH)

UNITS = Table("units", (
    Column("unit", STRING), Column("employees", INT), Column("working_days", INT), *_ints(*_DAY_COUNTS),
    Column("tiers", STRING, "JSON"), Column("cut_percent_mean", DOUBLE), Column("absent_year_to_date", INT),
    *_RUN), _MONTH)

ATTENDANCE = Table("attendance", (
    Column("nip", STRING), Column("name", STRING), Column("office_id", STRING), Column("local_date", DATE),
    Column("kind", STRING, "in, out or day (an absence or a day an approved request covers)"),
    Column("local_time", STRING), Column("timezone", STRING), Column("decision", STRING),
    Column("work_mode", STRING), Column("site_id", STRING), Column("late_minutes", INT),
    Column("early_leave_minutes", INT), Column("tier", STRING), Column("distance_m", DOUBLE),
    Column("accuracy_m", DOUBLE), Column("face_score", DOUBLE), Column("reason_codes", STRING),
    Column("record_id", STRING), Column("run_id", STRING)),
    (Column("date", DATE), Column("agency", STRING)))

TABLES = (RECAP, UNITS, ATTENDANCE)


def _json(value: object) -> str:
    import json
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _counts(r: JsonObject, tl: Mapping[str, int], psw: Mapping[str, int]) -> JsonObject:
    row = {k: r.get(k) for k in _DAY_COUNTS if k in r}
    return {**row, "days_late": sum(tl.values()), "days_early_leave": sum(psw.values()),
            "tiers": _json({**tl, **psw})}


def recap_rows(recaps: list[rp.EmployeeRecap], run: str, first: date, through: date) -> list[JsonObject]:
    run_cols = {"run_id": run, "period_from": first, "period_through": through}
    return [{**rp.recap_row(r), **_counts(rp.recap_row(r), r.tl, r.psw),
             "leave_by_type": _json(dict(r.leave_by_type)), "cut_reasons": _json(list(r.cut_reasons)),
             "consecutive_absence": _json(list(r.consecutive_absence)),
             "discipline_level": rp.discipline_level(r.absent_year_to_date), **run_cols} for r in recaps]


def unit_rows(units: list[rp.UnitTotals], run: str, first: date, through: date) -> list[JsonObject]:
    return [{**rp.unit_row(u), **_counts(rp.unit_row(u), u.tl, u.psw), "run_id": run, "period_from": first,
             "period_through": through} for u in units]


def attendance_rows(rows: list[JsonObject], run: str) -> list[JsonObject]:
    """The daily export's rows (as records_to_csv takes them) as the table's: typed, the reason
    codes joined as in the CSV, by NIP, date and time like the CSV."""
    from chalicelib.policy.export import _reason_codes, _sort_key
    out = []
    for row in sorted(rows, key=_sort_key):
        typed = {c.name: row.get(c.name) for c in ATTENDANCE.columns}
        typed["local_date"] = date.fromisoformat(str(row["local_date"])) if row.get("local_date") else None
        typed["reason_codes"] = _reason_codes(row)
        out.append({**typed, "run_id": run})
    return out
