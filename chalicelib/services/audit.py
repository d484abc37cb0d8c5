"""The audit log for auditors: every privileged action, appended by the write it records.

Read by UTC date (one index query per day, never a scan), oldest first, so a reader following
``next_cursor`` meets entries appended meanwhile at the end instead of losing them. The cursor
is opaque to clients: the last entry returned (its subject and id), checked on the way back in;
a forged one can only move a reader within the entries they may read anyway.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import date, timezone

from chalicelib.common.errors import InvalidInput
from chalicelib.services.records import AuditCursor
from chalicelib.services.schemas import AuditEntryOut, AuditLog, AuditLogQuery
from chalicelib.wiring import Services

MAX_RANGE_DAYS = 31
_NIP = re.compile(r"^\d{18}$")
_ENTRY_ID = re.compile(r"^(\d{4}-\d{2}-\d{2})T[0-9:.+\-Z]{1,40}#[0-9a-f]{1,64}$")


def audit_log(svc: Services, q: AuditLogQuery) -> AuditLog:
    end = q.end or svc.clock.now().astimezone(timezone.utc).date()
    start = q.start or end
    if start > end or (end - start).days >= MAX_RANGE_DAYS:
        raise InvalidInput(f"from must be on or before to, at most {MAX_RANGE_DAYS} days",
                           code="invalid_range", details={"from": start.isoformat(), "to": end.isoformat()})
    after = decode_cursor(q.cursor, start, end) if q.cursor else None
    page = svc.records.audit_log(start.isoformat(), end.isoformat(), actor=q.actor,
                                 subject=subject_of(q.subject), limit=q.limit, after=after)
    return AuditLog(start=start.isoformat(), end=end.isoformat(),
                    entries=[AuditEntryOut(**e.model_dump()) for e in page.entries],
                    next_cursor=encode_cursor(page.next) if page.next else None)


def subject_of(raw: str | None) -> str | None:
    """A NIP means that employee (``employee#<nip>``); a subject as listed is taken as it is."""
    if raw is None:
        return None
    if _NIP.match(raw):
        return f"employee#{raw}"
    if "#" in raw:
        return raw
    raise InvalidInput("subject must be a NIP or a subject such as office#<id>", code="invalid_subject",
                       details={"subject": raw})


def encode_cursor(c: AuditCursor) -> str:
    raw = json.dumps({"s": c.subject, "e": c.entry_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, start: date, end: date) -> AuditCursor:
    """The cursor, if it is one this service made for a page within ``start``..``end``."""
    def bad(why: str) -> InvalidInput:
        return InvalidInput("The cursor is not one this query returned", code="invalid_cursor",
                            details={"reason": why})
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise bad("unreadable") from None
    if not isinstance(data, dict) or set(data) != {"s", "e"} or not all(
            isinstance(v, str) and 0 < len(v) <= 200 for v in data.values()):
        raise bad("unreadable")
    m = _ENTRY_ID.match(data["e"])
    try:
        day = date.fromisoformat(m.group(1)) if m else None
    except ValueError:
        day = None
    if day is None:
        raise bad("unreadable")
    if not start <= day <= end:
        raise bad("outside_range")
    return AuditCursor(subject=data["s"], entry_id=data["e"])
