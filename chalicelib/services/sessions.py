"""Single-use, short-lived upload sessions: photos go straight from the phone to the upload store
(presigned POST); the session binds them to the employee, a purpose and a nonce."""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from chalicelib.common.errors import Conflict, Gone, InvalidInput, NotFound
from chalicelib.common.resources import EVIDENCE_PREFIX
from chalicelib.face import image
from chalicelib.services.records import Challenge, UploadSession, utc_iso
from chalicelib.services.schemas import ChallengeOut, ChallengeStep, UploadSessionOut, UploadTarget
from chalicelib.wiring import Services

ENROLMENT, CHECKIN = "enrolment", "checkin"


def upload_keys(purpose: str, nip: str, session_id: str, count: int) -> list[str]:
    """Where a session's photos are uploaded (resources.UPLOAD_PREFIXES), in step order."""
    return [f"{purpose}/{nip}/{session_id}/{i}" for i in range(count)]


def evidence_key(upload_key: str) -> str:
    """Where an upload is kept for a supervisor's review (the bucket's evidence/ lifecycle rule)."""
    return EVIDENCE_PREFIX + upload_key


def open_session(svc: Services, nip: str, purpose: str, ttl_s: int, count: int = 1,
                 steps: list[str] | None = None, offline: bool = False) -> UploadSessionOut:
    """``count`` uploads, or one per step of a liveness challenge (``steps``) in step order
    (``offline``: steps the client chose for a capture made offline)."""
    now = svc.clock.now()
    session_id, nonce = uuid.uuid4().hex, secrets.token_urlsafe(16)
    expires = now + timedelta(seconds=ttl_s)
    challenge = Challenge(id=secrets.token_urlsafe(12), steps=steps, offline=offline) if steps else None
    keys = upload_keys(purpose, nip, session_id, len(steps) if steps else count)
    svc.records.put_session(UploadSession(session_id=session_id, nip=nip, purpose=purpose, nonce=nonce,
                                          keys=keys, expires_at=utc_iso(expires), challenge=challenge),
                            expires=expires + timedelta(days=1))
    targets = [UploadTarget(**svc.uploads.presign(key, nonce, ttl_s)) for key in keys]
    return UploadSessionOut(
        session_id=session_id, nonce=nonce, uploads=targets, expires_at=utc_iso(expires),
        challenge=ChallengeOut(id=challenge.id, steps=[ChallengeStep(pose=s) for s in challenge.steps],
                               offline=challenge.offline)
        if challenge else None,
        max_bytes=svc.settings.upload_max_bytes, content_types=list(svc.settings.upload_content_types))


def read_photos(svc: Services, session: UploadSession) -> list[bytes]:
    """The session's photos, in step order, each refused before any other work (the capture
    time, the template's unsealing, the face engine) when its header breaks the image limits:
    FaceError image_too_large (413) or unsupported_image (415), nothing written."""
    photos = [svc.uploads.read(key, session.nonce) for key in session.keys]
    for data in photos:
        image.screen(data, svc.settings.face)
    return photos


def delete_used_frames(svc: Services, keys: list[str]) -> dict[str, int]:
    """Delete the raw frames of sessions just used (the sessions stream's consumer), seconds after
    the check-in or enrolment that read them: what is kept for a review was copied to evidence/
    before the session was marked used. Best effort: the uploads bucket's lifecycle rule
    (``raw_image_expiry_days``) removes whatever a failed delete leaves."""
    svc.uploads.discard(keys)
    return {"frames": len(keys)}


def claimable(svc: Services, session_id: str, nip: str, purpose: str) -> UploadSession:
    """The session if ``nip`` may use it now for ``purpose`` (using it is part of the write that
    records the result, so a replay racing this check still fails there)."""
    return usable(svc, svc.records.get_session(session_id), nip, purpose)


def usable(svc: Services, sess: UploadSession | None, nip: str, purpose: str) -> UploadSession:
    """``sess`` (as read, None: not stored) if ``nip`` may use it now for ``purpose``."""
    if sess is None or sess.nip != nip:
        raise NotFound("Unknown upload session", code="session_not_found")
    if sess.purpose != purpose:
        raise InvalidInput(f"This session is for {sess.purpose}, not {purpose}",
                           code="wrong_session_purpose")
    if sess.used:
        raise Conflict("The upload session was already used", code="session_used",
                       details={"used_at": sess.used_at})
    if datetime.fromisoformat(sess.expires_at) <= svc.clock.now():
        raise Gone("The upload session has expired", code="session_expired",
                   details={"expired_at": sess.expires_at})
    return sess
