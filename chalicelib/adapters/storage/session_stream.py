"""The sessions table's stream as the frame deleter reads it (``api/events.py``
``delete_used_frames``): which upload sessions a batch of records marks used, and their raw
frames' keys. Only this module reads a stream record, so only it knows the stored attribute names
(``models.SessionModel``) in DynamoDB's typed JSON.

A key is taken only if it lies under its own session's prefix (``<purpose>/<nip>/<session_id>/``,
``services/sessions.upload_keys``) and that purpose's prefix is a frame prefix
(``resources.FRAME_PREFIXES``): whatever an item says, nothing else in the bucket is deleted.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.common.resources import FRAME_PREFIXES


def _string(image: dict, name: str) -> str | None:
    value = image.get(name)
    return value.get("S") if isinstance(value, dict) and isinstance(value.get("S"), str) else None


def _used(image: dict) -> bool:
    value = image.get("used")
    return isinstance(value, dict) and value.get("BOOL") is True


def used_frames(records: Iterable[Any] | None) -> list[str]:
    """The frames' keys of every session a MODIFY record turns from unused to used, in order."""
    keys: list[str] = []
    for record in records or ():
        if not isinstance(record, dict) or record.get("eventName") != "MODIFY":
            continue
        change = record.get("dynamodb") or {}
        new, old = change.get("NewImage") or {}, change.get("OldImage") or {}
        if _used(new) and not _used(old):
            keys += _frames(new)
    return keys


def _frames(image: dict) -> list[str]:
    purpose, nip, session_id = (_string(image, name) for name in ("purpose", "nip", "session_id"))
    if not (purpose and nip and session_id) or "/" in purpose + nip + session_id:
        return []
    prefix = f"{purpose}/{nip}/{session_id}/"
    if not prefix.startswith(FRAME_PREFIXES):
        return []
    listed = image.get("keys")
    listed = listed.get("L", []) if isinstance(listed, dict) else []
    keys = [k.get("S") for k in listed if isinstance(k, dict)]
    return [k for k in keys if isinstance(k, str) and k.startswith(prefix)
            and k[len(prefix):] and "/" not in k[len(prefix):]]
