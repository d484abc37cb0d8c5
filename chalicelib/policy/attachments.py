"""What a request's attachment (a medical certificate, a letter) may be: a PDF, JPEG or PNG of at
most the configured size, its type as its first bytes say, not as its name or header claim.

Pure (no AWS): the adapter reports what the bucket holds (:class:`UploadedObject`), this module
decides. Every refusal is an error with a code and its numbers as details.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.common.errors import InvalidInput, TooLarge, Unsupported

# The signatures (magic bytes) each accepted type starts with.
SIGNATURES: dict[str, bytes] = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
CONTENT_TYPES = tuple(SIGNATURES)
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
HEAD_BYTES = 16  # read from the object to tell its type
# A work report's or task's attachment (policy/work.py) may also be an office document: the
# Office Open XML types are ZIP containers (PK 03 04), the older Word/Excel files OLE2 compound
# files; the first bytes tell the container, not which office type it holds.
_ZIP, _OLE2 = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORK_SIGNATURES: dict[str, bytes] = {
    **SIGNATURES,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _ZIP,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _ZIP,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _ZIP,
    "application/msword": _OLE2,
    "application/vnd.ms-excel": _OLE2,
}
WORK_CONTENT_TYPES = tuple(WORK_SIGNATURES)
EXTENSIONS.update({
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/msword": "doc", "application/vnd.ms-excel": "xls"})
UPLOAD_ID_PATTERN = r"^[0-9a-f]{32}$"
_UPLOAD_ID = re.compile(UPLOAD_ID_PATTERN)


@dataclass(frozen=True)
class UploadedObject:
    """What the bucket holds under a key: size, the stored Content-Type, the nonce metadata and
    the first :data:`HEAD_BYTES`."""

    size: int
    content_type: str | None
    nonce: str | None
    head: bytes


def sniff(head: bytes) -> str | None:
    """The accepted type ``head`` starts like (None: none of them)."""
    return next((t for t, sig in SIGNATURES.items() if head.startswith(sig)), None)


def check_upload_id(upload_id: str) -> str:
    if not _UPLOAD_ID.match(upload_id):
        raise InvalidInput("Not an upload id of this request", code="invalid_upload_id")
    return upload_id


def check_upload(found: UploadedObject | None, *, nonce: str, max_bytes: int,
                 signatures: dict[str, bytes] = SIGNATURES) -> str:
    """The content type of an uploaded attachment once it passes every rule: it exists
    (``attachment_missing``), is at most ``max_bytes`` (``attachment_too_large``), was posted
    through this upload (``nonce_mismatch``), and its bytes say the type it was declared as
    (the stored Content-Type, which the POST policy binds to the declared one), one of
    :data:`CONTENT_TYPES` (``unsupported_attachment``: a renamed file); ``signatures``: the
    types accepted (work attachments: :data:`WORK_SIGNATURES`)."""
    if found is None or found.size == 0:
        raise attachment_missing()
    if found.size > max_bytes:
        raise TooLarge("The attachment is too large", code="attachment_too_large",
                       details={"bytes": found.size, "max_bytes": max_bytes})
    if found.nonce != nonce:
        raise InvalidInput("The attachment was not uploaded for this request", code="nonce_mismatch")
    stored = (found.content_type or "").split(";")[0].strip().lower()
    signature = signatures.get(stored)
    if signature is None or not found.head.startswith(signature):
        what = "PDF, JPEG or PNG documents" if signatures is SIGNATURES else "PDF, images or office documents"
        raise Unsupported(f"Only {what} are accepted, of the type declared", code="unsupported_attachment",
                          details={"declared": stored, "detected": sniff(found.head), "allowed": list(signatures)})
    return stored


def attachment_missing() -> InvalidInput:
    return InvalidInput("The attachment was not uploaded", code="attachment_missing")
