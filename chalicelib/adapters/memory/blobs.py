"""In-memory twins of the S3, KMS, SNS/SES and Cognito adapters: same methods, same checks, same
errors (tests/contract/test_blobs.py runs one suite against both), plus a few read-back helpers
for tests. Nothing here is durable or shared between processes."""
from __future__ import annotations

import base64
import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator
from urllib.parse import quote, unquote

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.adapters.notify import SUBJECT_MAX, notice_kind
from chalicelib.adapters.s3 import (
    NONCE_META,
    UploadLimits,
    document_conditions,
    export_exists,
    sse_arguments,
    upload_missing,
)
from chalicelib.adapters.vault import integrity_error
from chalicelib.policy.attachments import UploadedObject
from chalicelib.common import resources as r
from chalicelib.common.errors import (
    Internal,
    InvalidInput,
    JsonObject,
    NotFound,
    Unauthenticated,
)
from chalicelib.services.records import ExportObject, SealedTemplate


@dataclass(frozen=True)
class StoredObject:
    body: bytes
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    encryption: dict[str, str] = field(default_factory=dict)  # as PutObject's SSE arguments
    version_id: str | None = None


# --- uploads ----------------------------------------------------------------------------------

class InMemoryUploads:
    """UploadStore twin. ``put`` stands in for the phone's POST and, like moto, enforces nothing:
    ``read`` re-checks every limit exactly as S3Uploads does."""

    def __init__(self, max_bytes: int, min_bytes: int, content_types: Iterable[str],
                 bucket: str = "uploads"):
        self.bucket = bucket
        self.limits = UploadLimits(max_bytes, min_bytes, tuple(content_types))
        self.objects: dict[str, StoredObject] = {}

    def presign(self, key: str, nonce: str, ttl_s: int) -> JsonObject:
        """The shape of a presigned POST: fake url, the key, the nonce field and the policy."""
        expires = datetime.now(timezone.utc) + timedelta(seconds=ttl_s)
        policy = {"expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "conditions": self.limits.conditions(nonce) + [{"bucket": self.bucket},
                                                                 {"key": key}]}
        fields = {NONCE_META: nonce, "key": key,
                  "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
        return {"url": f"memory://{self.bucket}/", "fields": fields, "key": key}

    def put(self, key: str, data: bytes, content_type: str | None, nonce: str | None) -> None:
        """What the phone's upload leaves in the bucket (no limit enforced, as in moto)."""
        self.objects[key] = StoredObject(bytes(data), content_type,
                                         {"nonce": nonce} if nonce is not None else {})

    def read(self, key: str, nonce: str) -> bytes:
        obj = self.objects.get(key)
        if obj is None:
            raise upload_missing(key)
        self.limits.check(key, len(obj.body), obj.content_type, obj.metadata.get("nonce"), nonce)
        return self.limits.check_body(obj.body[:self.limits.max_bytes + 1], obj.content_type)

    def discard(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)

    def keep(self, key: str, evidence_key: str) -> None:
        obj = self.objects.get(key)
        if obj is None:
            raise upload_missing(key)
        self.objects[evidence_key] = obj

    def presign_document(self, key: str, nonce: str, content_type: str, max_bytes: int,
                         ttl_s: int) -> JsonObject:
        expires = datetime.now(timezone.utc) + timedelta(seconds=ttl_s)
        policy = {"expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "conditions": document_conditions(nonce, content_type, max_bytes)
                  + [{"bucket": self.bucket}, {"key": key}]}
        fields = {NONCE_META: nonce, "Content-Type": content_type, "key": key,
                  "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
        return {"url": f"memory://{self.bucket}/", "fields": fields, "key": key}

    def probe(self, key: str, head_bytes: int) -> UploadedObject | None:
        obj = self.objects.get(key)
        if obj is None:
            return None
        return UploadedObject(size=len(obj.body), content_type=obj.content_type,
                              nonce=obj.metadata.get("nonce"), head=obj.body[:head_bytes])

    def stream(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        obj = self.objects.get(key)
        if obj is None:
            raise upload_missing(key)
        body = obj.body[start:end]
        for i in range(0, len(body), 64 * 1024):
            yield body[i:i + 64 * 1024]

    def download_url(self, key: str, expires_in: int, content_type: str | None = None,
                     filename: str | None = None) -> str:
        served = (f"&response-content-type={quote(content_type or 'application/octet-stream', safe='')}"
                  f"&response-content-disposition={quote(f'attachment; filename={filename}', safe='')}"
                  if filename else "")
        return (f"memory://{self.bucket}/{quote(key)}?X-Amz-Expires={expires_in}{served}"
                f"&X-Amz-Signature={secrets.token_hex(16)}")

    def fetch(self, url: str) -> bytes | None:
        """What a ``download_url`` serves (None: the object is gone)."""
        key = url.split(f"memory://{self.bucket}/", 1)[1].split("?", 1)[0]
        obj = self.objects.get(unquote(key))
        return obj.body if obj else None


# --- exports ----------------------------------------------------------------------------------

class InMemoryExports:
    """ExportStore twin. Write-once like the versioned, Object Lock bucket with ``IfNoneMatch``:
    a second put of a key is refused (Conflict ``export_exists``), every object has a version id.
    Records each object's content type and the encryption S3 would apply (``kms_key_id``'s
    SSE-KMS, else the bucket default ``bucket_kms_key_id``), read back by ``head`` in
    head_object's shape; ``fetch`` resolves a URL from ``download_url``."""

    def __init__(self, kms_key_id: str | None = None, *, bucket_kms_key_id: str | None = None,
                 bucket: str = "exports"):
        self.bucket = bucket
        self.kms_key_id = kms_key_id or None
        self.bucket_kms_key_id = bucket_kms_key_id
        self.objects: dict[str, StoredObject] = {}
        self._urls: dict[str, tuple[str, str | None, float]] = {}

    def _encryption(self) -> dict[str, str]:
        return sse_arguments(self.kms_key_id) or sse_arguments(self.bucket_kms_key_id)

    def put(self, key: str, body: bytes, content_type: str) -> str:
        if key in self.objects:
            raise export_exists(key)
        version = uuid.uuid4().hex
        self.objects[key] = StoredObject(bytes(body), content_type, encryption=self._encryption(),
                                         version_id=version)
        return version

    def list(self, prefix: str, versions: bool = False) -> list[ExportObject]:
        return [ExportObject(key=k, bytes=len(o.body), version_id=o.version_id if versions else None)
                for k, o in sorted(self.objects.items()) if k.startswith(prefix)]

    def get(self, key: str, version_id: str | None = None) -> bytes:
        obj = self.objects.get(key)
        if obj is None or (version_id and obj.version_id != version_id):
            raise NotFound("No such export file", code="export_not_found", details={"key": key})
        return obj.body

    def download_url(self, key: str, expires_in: int, version_id: str | None = None) -> str:
        url = (f"memory://{self.bucket}/{quote(key)}?X-Amz-Expires={expires_in}"
               + (f"&versionId={version_id}" if version_id else "")
               + f"&X-Amz-Signature={secrets.token_hex(16)}")
        self._urls[url] = (key, version_id, time.monotonic() + expires_in)
        return url

    def fetch(self, url: str) -> bytes:
        """What a GET of a download URL returns (NotFound if unknown, expired or deleted)."""
        key, version, until = self._urls.get(url, ("", None, 0.0))
        if time.monotonic() > until:
            raise NotFound("The download link is unknown or expired", code="link_expired")
        return self.get(key, version)

    def head(self, key: str) -> JsonObject:
        """head_object's fields for a stored object."""
        obj = self.objects.get(key)
        if obj is None:
            raise NotFound("No such export file", code="export_not_found", details={"key": key})
        return {"ContentType": obj.content_type, "ContentLength": len(obj.body),
                "VersionId": obj.version_id, **obj.encryption}


# --- vault ------------------------------------------------------------------------------------

class InMemoryVault:
    """TemplateVault twin: real AES-256-GCM under a data key per template, the data key wrapped by
    a random in-process master key with the encryption context as AAD (as KMS binds it)."""

    def __init__(self, key_id: str = "memory/biometrics"):
        self.key_id = key_id
        self._master = AESGCM(AESGCM.generate_key(bit_length=256))

    @staticmethod
    def _context(nip: str) -> bytes:
        return json.dumps({"purpose": "face-template", "nip": nip}, sort_keys=True).encode()

    def seal(self, nip: str, template: JsonObject) -> SealedTemplate:
        data_key, key_nonce, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12), os.urandom(12)
        wrapped = key_nonce + self._master.encrypt(key_nonce, data_key, self._context(nip))
        plaintext = json.dumps(template, separators=(",", ":")).encode()
        return SealedTemplate(ciphertext=AESGCM(data_key).encrypt(nonce, plaintext, nip.encode()),
                              encrypted_key=wrapped, nonce=nonce, key_id=self.key_id,
                              model_version=str(template.get("model_version", "")))

    def unseal(self, nip: str, sealed: SealedTemplate) -> JsonObject:
        wrapped = bytes(sealed.encrypted_key)
        try:
            data_key = self._master.decrypt(wrapped[:12], wrapped[12:], self._context(nip))
            plaintext = AESGCM(data_key).decrypt(bytes(sealed.nonce), bytes(sealed.ciphertext),
                                                 nip.encode())
        except (InvalidTag, ValueError) as exc:  # another NIP, altered, or truncated
            raise integrity_error() from exc
        return json.loads(plaintext)


# --- notifier ---------------------------------------------------------------------------------

class InMemoryNotifier:
    """Notifier twin: what would have been published to the topic and sent through SES."""

    def __init__(self, sender: str = "hadir-noreply@example.go.id", topic_arn: str = "memory:topic"):
        self.sender = sender
        self.topic_arn = topic_arn
        self.published: list[JsonObject] = []  # {"notice", "subject", "kind"}
        self.sent: list[JsonObject] = []  # {"source", "to", "subject", "body"}

    def publish(self, notice: JsonObject, subject: str) -> None:
        kind = notice_kind(notice)
        if not self.topic_arn:
            raise Internal("No notification topic is configured", code="notify_not_configured")
        self.published.append({"notice": json.loads(json.dumps(notice)),
                               "subject": subject[:SUBJECT_MAX], "kind": kind})

    def send_email(self, to: str, subject: str, body: str) -> None:
        if not self.sender:
            raise Internal("No e-mail sender is configured", code="email_not_configured")
        self.sent.append({"source": self.sender, "to": to, "subject": subject, "body": body})


# --- directory --------------------------------------------------------------------------------

@dataclass
class _User:
    sub: str
    password: str
    attributes: dict[str, str]
    groups: set[str]


class InMemoryDirectory:
    """Directory twin: users with passwords and groups, the bootstrap pool's password policy
    (minimum length), and HS256 tokens shaped like Cognito's (claims ``sub``,
    ``cognito:username``, ``cognito:groups``, ``custom:nip``, ...; never valid for RS256)."""

    def __init__(self, agency_id: str = "agency", *, client_id: str = "memory-client",
                 groups: Iterable[str] = r.USER_POOL.groups,
                 password_min_length: int = r.USER_POOL.password_min_length):
        self.agency_id = agency_id
        self.client_id = client_id
        self.groups = frozenset(groups)
        self.password_min_length = password_min_length
        self.users: dict[str, _User] = {}
        self._secret = secrets.token_bytes(32)
        self._refresh: dict[str, str] = {}  # refresh token -> username

    def login(self, username: str, password: str) -> JsonObject:
        user = self.users.get(username)
        if user is None or not secrets.compare_digest(user.password, password):
            raise Unauthenticated("Wrong username or password", code="invalid_credentials")
        refresh = secrets.token_urlsafe(32)
        self._refresh[refresh] = username
        return {"id_token": self._token(username, user, "id"),
                "access_token": self._token(username, user, "access"),
                "refresh_token": refresh, "expires_in": 3600}

    def refresh(self, refresh_token: str) -> JsonObject:
        username = self._refresh.get(refresh_token)
        user = self.users.get(username or "")
        if user is None:
            raise Unauthenticated("The refresh token is invalid, expired or revoked; sign in again",
                                  code="invalid_refresh_token")
        return {"id_token": self._token(username, user, "id"),  # type: ignore[arg-type]
                "access_token": self._token(username, user, "access"),  # type: ignore[arg-type]
                "refresh_token": None, "expires_in": 3600}

    def _token(self, username: str, user: _User, use: str) -> str:
        now = int(time.time())
        claims: JsonObject = {"iss": "memory://directory", "sub": user.sub, "token_use": use,
                              "iat": now, "auth_time": now, "exp": now + 3600,
                              "jti": uuid.uuid4().hex}
        if use == "id":
            claims.update({"aud": self.client_id, "cognito:username": username, **{
                k: v for k, v in user.attributes.items() if k.startswith("custom:")}})
        else:
            claims.update({"client_id": self.client_id, "username": username})
        if user.groups:
            claims["cognito:groups"] = sorted(user.groups)
        return jwt.encode(claims, self._secret, algorithm="HS256", headers={"kid": "memory"})

    def upsert_user(self, username: str, password: str | None, *, nip: str | None, name: str,
                    groups: Iterable[str]) -> None:
        """As CognitoDirectory.upsert_user, in the same order (so a failure leaves the same)."""
        if not username or any(c.isspace() for c in username):
            raise InvalidInput("The user could not be created", code="invalid_user",
                               details={"reason": "username"})
        attrs = {"name": name, "custom:agency_id": self.agency_id, **({"custom:nip": nip} if nip else {})}
        user = self.users.get(username)
        created = user is None
        if user is None:
            user = self.users[username] = _User(str(uuid.uuid4()), secrets.token_urlsafe(24), attrs, set())
        else:
            user.attributes.update(attrs)
        if password or created:
            self._set_password(user, password or secrets.token_urlsafe(12) + "a1A!")
        wanted = set(groups)
        for g in sorted(wanted - user.groups):
            if g not in self.groups:
                raise InvalidInput("No such role group", code="unknown_group", details={"group": g})
            user.groups.add(g)
        user.groups -= (user.groups & set(r.USER_POOL.groups)) - wanted

    def _set_password(self, user: _User, password: str) -> None:
        if len(password) < self.password_min_length:
            raise InvalidInput("The password does not meet the policy", code="invalid_password")
        user.password = password
