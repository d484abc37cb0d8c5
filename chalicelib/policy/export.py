"""The daily attendance export for the personnel agency and auditors: CSV plus a manifest.

The CSV is UTF-8 (no BOM), RFC 4180 (CRLF line ends, quotes doubled, a header row), with a fixed
column order and rows sorted by NIP, then local date and time, so the same records always give
the same bytes and the manifest's SHA-256 can prove a file unchanged. Text cells that a
spreadsheet would run as a formula (starting with ``= + - @``, tab or CR) are prefixed with ``'``.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from chalicelib.common.errors import JsonObject

EXPORT_SCHEMA_VERSION = "1"

CSV_COLUMNS = [
    "nip", "name", "office_id", "local_date", "kind", "local_time", "timezone", "decision",
    "work_mode", "site_id", "late_minutes", "early_leave_minutes", "tier", "distance_m",
    "accuracy_m", "face_score", "reason_codes", "record_id",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(round(value, 2)) if isinstance(value, float) else str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _reason_codes(row: dict) -> str | None:
    if row.get("reason_codes") is not None:
        codes = row["reason_codes"]
        return ";".join(codes) if isinstance(codes, (list, tuple)) else str(codes)
    reasons = row.get("reasons")
    if isinstance(reasons, list):
        return ";".join(str(r.get("code", "")) if isinstance(r, dict) else str(r)
                        for r in reasons)
    return None


def _sort_key(row: dict) -> tuple[str, str, str, str]:
    return tuple(_cell(row.get(k)) for k in ("nip", "local_date", "local_time", "kind"))


def records_to_csv(rows: Iterable[dict]) -> bytes:
    """Attendance rows (dicts; unknown keys ignored, missing ones empty) as CSV bytes.
    ``reason_codes`` comes from the row's own ``reason_codes`` or the codes of its ``reasons``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    for row in sorted(rows, key=_sort_key):
        values = {**row, "reason_codes": _reason_codes(row)}
        writer.writerow([_cell(values.get(c)) for c in CSV_COLUMNS])
    return out.getvalue().encode("utf-8")


def manifest(csv_bytes: bytes, rows: Sequence[dict] | int, *, date: date | str, agency_id: str,
             generated_at: datetime | str) -> JsonObject:
    """What an auditor needs to trust the file: row count, SHA-256, schema and columns.

    Raises ValueError if ``rows`` does not match the number of data rows in ``csv_bytes``.
    """
    count = rows if isinstance(rows, int) else len(rows)
    in_file = sum(1 for _ in csv.reader(io.StringIO(csv_bytes.decode("utf-8")))) - 1
    if in_file != count:
        raise ValueError(f"manifest rows ({count}) != data rows in the CSV ({in_file})")
    return {
        "schema_version": EXPORT_SCHEMA_VERSION,
        "agency_id": agency_id,
        "date": date if isinstance(date, str) else date.isoformat(),
        "generated_at": generated_at if isinstance(generated_at, str) else generated_at.isoformat(),
        "rows": count,
        "bytes": len(csv_bytes),
        "sha256": hashlib.sha256(csv_bytes).hexdigest(),
        "columns": list(CSV_COLUMNS),
        "encoding": "utf-8",
        "format": "text/csv; header=present (RFC 4180)",
    }
