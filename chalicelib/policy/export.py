"""The daily export for the personnel agency and auditors: attendance CSV, audit CSV, a manifest.

Both CSVs are UTF-8 (no BOM), RFC 4180 (CRLF line ends, quotes doubled, a header row), with a
fixed column order and a fixed row order (attendance by NIP, then local date and time; audit by
instant, then entry id), so the same records always give the same bytes and the manifest's
SHA-256 can prove a file unchanged. Text cells that a spreadsheet would run as a formula
(starting with ``= + - @``, tab or CR) are prefixed with ``'``; objects are compact JSON.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from chalicelib.common.errors import JsonObject

EXPORT_SCHEMA_VERSION = "1"

CSV_COLUMNS = [
    "nip", "name", "office_id", "local_date", "kind", "local_time", "timezone", "decision",
    "work_mode", "site_id", "late_minutes", "early_leave_minutes", "tier", "distance_m",
    "accuracy_m", "face_score", "reason_codes", "record_id",
]

AUDIT_COLUMNS = ["at", "subject", "action", "actor", "details", "before", "after", "entry_id"]
AUDIT_FILE = "audit.csv"

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


def _to_csv(columns: list[str], rows: Iterable[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue().encode("utf-8")


def _data_rows(csv_bytes: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(csv_bytes.decode("utf-8")))) - 1


def table_to_csv(columns: Sequence[str], rows: Iterable[dict]) -> bytes:
    """Rows, in the order given, under ``columns`` (the same cells and quoting as the export):
    the monthly recap's files."""
    return _to_csv(list(columns), rows)


def data_rows(csv_bytes: bytes) -> int:
    """The data rows of a CSV with a header row."""
    return _data_rows(csv_bytes)


def records_to_csv(rows: Iterable[dict]) -> bytes:
    """Attendance rows (dicts; unknown keys ignored, missing ones empty) as CSV bytes.
    ``reason_codes`` comes from the row's own ``reason_codes`` or the codes of its ``reasons``."""
    return _to_csv(CSV_COLUMNS, ({**row, "reason_codes": _reason_codes(row)}
                                 for row in sorted(rows, key=_sort_key)))


def audit_window(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The instants whose audit entries belong to ``day``'s export: the day in ``tz``, start
    inclusive, end exclusive (each entry is in exactly one day's file)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def audit_to_csv(entries: Iterable[dict]) -> bytes:
    """Audit entries (``AuditEntry`` as JSON dicts) as CSV bytes, by instant then entry id;
    ``details``, ``before`` and ``after`` as JSON (empty: null)."""
    return _to_csv(AUDIT_COLUMNS, sorted(entries, key=lambda e: (e.get("at") or "", e.get("entry_id") or "")))


def audit_manifest(csv_bytes: bytes, rows: int, *, window: tuple[datetime, datetime]) -> JsonObject:
    """The manifest's part for the audit file: its own row count, SHA-256 and columns, and the
    instants it covers. Raises ValueError if ``rows`` does not match the file."""
    if _data_rows(csv_bytes) != rows:
        raise ValueError(f"audit rows ({rows}) != data rows in the CSV ({_data_rows(csv_bytes)})")
    return {"file": AUDIT_FILE, "rows": rows, "bytes": len(csv_bytes),
            "sha256": hashlib.sha256(csv_bytes).hexdigest(), "columns": list(AUDIT_COLUMNS),
            "from": window[0].isoformat(), "to": window[1].isoformat(),
            "format": "text/csv; header=present (RFC 4180)"}


def manifest(csv_bytes: bytes, rows: Sequence[dict] | int, *, date: date | str, agency_id: str,
             generated_at: datetime | str, audit: JsonObject | None = None) -> JsonObject:
    """What an auditor needs to trust the files: row count, SHA-256, schema and columns of the
    attendance CSV, and ``audit`` (:func:`audit_manifest`) for the audit CSV if given.

    Raises ValueError if ``rows`` does not match the number of data rows in ``csv_bytes``.
    """
    count = rows if isinstance(rows, int) else len(rows)
    in_file = _data_rows(csv_bytes)
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
        **({"audit": audit} if audit is not None else {}),
    }


# --- runs: write-once, chained ------------------------------------------------------------------
# Each run of a day's export writes new objects under its own run id, never replacing an earlier
# run's: ``<date prefix>run=<run_id>/records.csv``, ``audit.csv`` and, last, ``manifest.json``.
# The manifest states every file's SHA-256 and the SHA-256 of the manifest before it (the day's
# previous run, or for the day's first run the previous day's last run, or null), so the runs form
# a chain that tools/verify_exports.py checks offline.

RECORDS_FILE = "records.csv"
MANIFEST_FILE = "manifest.json"
RUN_DIR = "run="
_RUN_TIME = "%Y%m%dT%H%M%S%fZ"


def run_id(now: datetime, token: str, after: str | None = None) -> str:
    """``<UTC yyyymmddThhmmssffffffZ>-<token>``: sorts as the runs were made. Later than
    ``after`` (the run it chains to) even if the clock stood still or stepped back."""
    at = now.astimezone(timezone.utc)
    if after:
        before = datetime.strptime(after.split("-", 1)[0], _RUN_TIME).replace(tzinfo=timezone.utc)
        at = max(at, before + timedelta(microseconds=1))
    return f"{at.strftime(_RUN_TIME)}-{token}"


def run_of(key: str) -> str | None:
    """The run id in an export key (None: not a run's object)."""
    part = next((p for p in key.split("/") if p.startswith(RUN_DIR)), None)
    return part[len(RUN_DIR):] if part else None


def chain(base: JsonObject, *, run: str, zone: str | None, sequence: int, previous_sha256: str | None,
          files: dict[str, bytes]) -> JsonObject:
    """``base`` (:func:`manifest`) as one run's link: its id, zone and sequence in the day, the
    previous manifest's SHA-256 and each file's name, size and SHA-256."""
    return {**base, "run_id": run, "zone": zone, "run_sequence": sequence,
            "previous_manifest_sha256": previous_sha256,
            "files": [{"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                      for name, data in files.items()]}


def manifest_bytes(man: JsonObject) -> bytes:
    return json.dumps(man, indent=2, sort_keys=True).encode()
