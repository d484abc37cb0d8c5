"""The Parquet files of a run (policy/analytics.py's tables), written with pyarrow.

pyarrow (~140 MB) does not fit in the API's package beside the face engine, so the code that
imports it (the monthly recap, the daily export) runs in its own function, ``analytics``
(adapters/analytics.py; in this process locally and in the tests). pyarrow is imported only here,
when a file is written.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.common.errors import JsonObject
from chalicelib.policy.analytics import BOOLEAN, DATE, DOUBLE, INT, STRING, Table
from chalicelib.wiring import Services

PARQUET_TYPE = "application/vnd.apache.parquet"


def arrow_schema(table: Table) -> Any:
    import pyarrow as pa
    types = {STRING: pa.string(), INT: pa.int32(), DOUBLE: pa.float64(), BOOLEAN: pa.bool_(),
             DATE: pa.date32()}
    return pa.schema([pa.field(c.name, types[c.type]) for c in table.columns])


def _value(kind: str, v: Any) -> Any:
    if v is None or v == "":
        return None
    if kind == INT:
        return int(v)
    if kind == DOUBLE:
        return float(v)
    if kind == BOOLEAN:
        return bool(v)
    if kind == DATE:
        return v if isinstance(v, date) else date.fromisoformat(str(v))
    return str(v)


def to_parquet(table: Table, rows: list[JsonObject]) -> bytes:
    """``rows`` (dicts; keys beyond the table's ignored) as one Parquet file, in the order given."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    data = {c.name: [_value(c.type, r.get(c.name)) for r in rows] for c in table.columns}
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pydict(data, schema=arrow_schema(table)), out, compression="snappy")
    return out.getvalue()


@dataclass(frozen=True)
class ParquetFile:
    table: str
    key: str
    rows: int
    bytes: int
    sha256: str
    version_id: str | None

    @property
    def name(self) -> str:
        return f"{self.table}.parquet"

    def manifest(self) -> JsonObject:
        """The run manifest's entry (``parquet``): vouched for by the manifest's own SHA-256."""
        return {"table": self.table, "name": self.name, "key": self.key, "rows": self.rows,
                "bytes": self.bytes, "sha256": self.sha256, "format": PARQUET_TYPE,
                "version_id": self.version_id}


def write_parquet(svc: Services, parts: list[tuple[Table, dict[str, object], list[JsonObject]]],
                  run: str) -> list[ParquetFile]:
    """Each (table, partition values, rows) as a new, write-once object of ``run``."""
    written = []
    for table, values, rows in parts:
        body, key = to_parquet(table, rows), table.key(values, run)
        version = svc.exports.put(key, body, PARQUET_TYPE)
        written.append(ParquetFile(table.name, key, len(rows), len(body), hashlib.sha256(body).hexdigest(), version))
    return written
