"""Single-use, short-lived upload sessions with presigned S3 POSTs.

The POST policy limits size and content type and binds each object to the session's nonce; moto
does not enforce those conditions (nor real S3 after the fact), so every limit is checked again
when the object is read.
"""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from botocore.exceptions import ClientError

from chalicelib.adapters import aws
from chalicelib.common.errors import Conflict, Gone, InvalidInput, NotFound
from chalicelib.face import types as ft
from chalicelib.common.settings import Settings
from chalicelib.adapters.storage.repos import Store, utc_iso

NONCE_META = "x-amz-meta-nonce"


class SessionError(InvalidInput):
    code = "invalid_session"


class UploadService:
    def __init__(self, settings: Settings, store: Store,
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.s = settings
        self.store = store
        self.wall_clock = wall_clock  # session expiry is security, not attendance: never frozen

    @property
    def bucket(self) -> str:
        return self.s.buckets["uploads"]

    def open(self, nip: str, purpose: str, count: int, ttl_s: int) -> dict[str, Any]:
        now = self.wall_clock()
        session_id = uuid.uuid4().hex
        nonce = secrets.token_urlsafe(16)
        expires = now + timedelta(seconds=ttl_s)
        keys = [f"{purpose}/{nip}/{session_id}/{i}" for i in range(count)]
        self.store.put_session({"session_id": session_id, "nip": nip, "purpose": purpose,
                                "nonce": nonce, "keys": keys, "expires_at": utc_iso(expires),
                                "expires_dt": expires + timedelta(days=1)})
        s3 = aws.client("s3")
        uploads = []
        for key in keys:
            post = s3.generate_presigned_post(
                Bucket=self.bucket, Key=key,
                Fields={NONCE_META: nonce},
                Conditions=[["content-length-range", self.s.upload_min_bytes, self.s.upload_max_bytes],
                            ["starts-with", "$Content-Type", "image/"],
                            {NONCE_META: nonce}],
                ExpiresIn=ttl_s,
            )
            uploads.append({"url": post["url"], "fields": post["fields"], "key": key})
        return {"session_id": session_id, "nonce": nonce, "uploads": uploads,
                "expires_at": utc_iso(expires), "max_bytes": self.s.upload_max_bytes,
                "content_types": list(self.s.upload_content_types)}

    def claimable(self, session_id: Any, nip: str, purpose: str) -> dict[str, Any]:
        """The session if it may be used now by ``nip`` for ``purpose`` (not yet marked used)."""
        if not isinstance(session_id, str) or not session_id:
            raise SessionError("session_id is required", code="missing_fields",
                               details={"fields": ["session_id"]})
        sess = self.store.get_session(session_id)
        if sess is None or sess["nip"] != nip:
            raise NotFound("Unknown upload session", code="session_not_found")
        if sess["purpose"] != purpose:
            raise SessionError(f"This session is for {sess['purpose']}, not {purpose}",
                               code="wrong_session_purpose")
        if sess["used"]:
            raise Conflict("The upload session was already used", code="session_used",
                               details={"used_at": sess["used_at"]})
        if datetime.fromisoformat(sess["expires_at"]) <= self.wall_clock():
            raise Gone("The upload session has expired", code="session_expired",
                               details={"expired_at": sess["expires_at"]})
        return sess

    def read(self, key: str, nonce: str) -> bytes:
        """The uploaded bytes, after re-checking size, content type and nonce."""
        s3 = aws.client("s3")
        try:
            head = s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if aws.error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                raise InvalidInput("A photo of this session was not uploaded", code="upload_missing",
                                 details={"key_index": key.rsplit("/", 1)[-1]}) from exc
            raise
        size = int(head["ContentLength"])
        if size > self.s.upload_max_bytes:
            raise ft.FaceError(ft.IMAGE_TOO_LARGE, "The photo is too large",
                               {"bytes": size, "max_bytes": self.s.upload_max_bytes})
        ctype = (head.get("ContentType") or "").split(";")[0].strip().lower()
        if ctype not in self.s.upload_content_types:
            raise ft.FaceError(ft.UNSUPPORTED_IMAGE, "Only JPEG or PNG photos are accepted",
                               {"content_type": ctype, "allowed": list(self.s.upload_content_types)})
        if size < self.s.upload_min_bytes:
            raise ft.FaceError(ft.CORRUPT_IMAGE, "The photo is too small to be an image",
                               {"bytes": size, "min_bytes": self.s.upload_min_bytes})
        if (head.get("Metadata") or {}).get("nonce") != nonce:
            raise InvalidInput("The photo was not uploaded for this session", code="nonce_mismatch")
        body = s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        data = body.read(self.s.upload_max_bytes + 1)
        if len(data) > self.s.upload_max_bytes:
            raise ft.FaceError(ft.IMAGE_TOO_LARGE, "The photo is too large",
                               {"max_bytes": self.s.upload_max_bytes})
        return data

    def discard(self, keys: list[str]) -> None:
        """Delete processed photos: pixels are never kept after a decision."""
        if keys:
            aws.client("s3").delete_objects(Bucket=self.bucket,
                                            Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
