"""What the audit keeps of each change, and how a page of the audit log is cut, defined once for
both ``AttendanceRecords`` implementations (DynamoDB and in-memory) so they cannot drift apart."""
from __future__ import annotations

import secrets
import time
from datetime import date, timedelta

from chalicelib.adapters.record_errors import SITE_AUDIT_FIELDS
from chalicelib.common.errors import JsonObject
from chalicelib.services.records import AuditCursor, AuditEntry, AuditPage, Employee, Office, PersonalSite

# The directory fields an import sets (never the password: only whether one was set).
EMPLOYEE_AUDIT_FIELDS = ("name", "unit", "group", "office_ids", "supervisor_nip", "roles", "email",
                         "echelon")


def new_entry_id(at: str) -> str:
    """``<at>#<suffix>``: sorted by the action's instant, then by when it was written (the suffix
    starts with the writer's nanosecond wall clock, so entries of one instant, as under a fixed
    test clock, keep the order they were made in), then a random part keeps writers apart."""
    return f"{at}#{time.time_ns():016x}{secrets.token_hex(4)}"


def employee_subject(nip: str) -> str:
    return f"employee#{nip}"


def config_subject(kind: str) -> str:
    return f"config#{kind}"


def roster_subject(unit: str, month: str) -> str:
    return f"roster#{month}#{unit}"


def office_subject(office_id: str) -> str:
    return f"office#{office_id}"


def employee_state(e: Employee | None) -> JsonObject | None:
    return None if e is None else e.model_dump(mode="json", include=set(EMPLOYEE_AUDIT_FIELDS))


def employee_change(before: Employee | None, after: Employee,
                    password_set: bool) -> tuple[str, JsonObject, JsonObject | None, JsonObject | None]:
    """(action, details, before, after) of an import row: which fields changed and whether a
    password was set."""
    old, new = employee_state(before), employee_state(after)
    changed = sorted(k for k in EMPLOYEE_AUDIT_FIELDS if old is None or old.get(k) != new.get(k))
    action = "employee_created" if before is None else "employee_updated"
    return action, {"changed": changed, "password_set": password_set}, old, new


def office_state(o: Office | None) -> JsonObject | None:
    return None if o is None else o.model_dump(mode="json", exclude={"office_id"})


def site_state(s: PersonalSite) -> JsonObject:
    """What a site's audit keeps: kind, mode and validity, not the place (a home is personal data)."""
    return s.model_dump(mode="json", include=set(SITE_AUDIT_FIELDS))


def utc_dates(start: str, end: str) -> list[str]:
    """Every ISO date from ``start`` to ``end``, both inclusive."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def cursor_of(entry: AuditEntry) -> AuditCursor:
    assert entry.entry_id is not None
    return AuditCursor(subject=entry.subject, entry_id=entry.entry_id)


def page_of(found: list[AuditEntry], limit: int) -> AuditPage:
    """``found`` holds up to ``limit + 1`` entries in order: one more than a page means more follow."""
    entries = found[:limit]
    more = len(found) > limit
    return AuditPage(entries=entries, next=cursor_of(entries[-1]) if more and entries else None)
