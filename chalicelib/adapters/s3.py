"""S3 adapters: the phones' upload bucket (UploadStore) and the auditors' export bucket (ExportStore).

Each takes a *provider*, a zero-argument callable returning the boto3 S3 client, so the client is
made on first use; settings reach them as constructor arguments. AWS calls are written
``self._s3().<method>(`` so tests/infra/test_synth.py can check the role grants each of them.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.aws import aws_failure, error_code
from chalicelib.common.errors import Conflict, InvalidInput, NotFound
from chalicelib.common.logs import logger
from chalicelib.face import image
from chalicelib.face import types as ft
from chalicelib.policy.attachments import UploadedObject
from chalicelib.services.records import ExportObject

NONCE_META = "x-amz-meta-nonce"  # the presigned POST field; S3 returns it as Metadata["nonce"]
_MISSING = ("404", "NoSuchKey", "NotFound")


@contextmanager
def _reading(key: str, message: str) -> Iterator[None]:
    """An upload's S3 failure as the service's error: a missing object ``upload_missing``, the
    rest ``storage_failure`` (retryable ones Unavailable: ``aws_failure``)."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) in _MISSING:
            raise upload_missing(key) from exc
        raise aws_failure(exc, message, "storage_failure") from exc
    except BotoCoreError as exc:
        raise aws_failure(exc, message, "storage_failure") from exc

Provider = Callable[[], Any]


# --- uploads ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class UploadLimits:
    """What one uploaded photo may be; the POST policy states it, ``check`` re-checks it."""

    max_bytes: int
    min_bytes: int
    content_types: tuple[str, ...]

    def conditions(self, nonce: str) -> list[Any]:
        """The POST policy conditions binding size, type and nonce."""
        return [["content-length-range", self.min_bytes, self.max_bytes],
                ["starts-with", "$Content-Type", "image/"], {NONCE_META: nonce}]

    def check(self, key: str, size: int, content_type: str | None, stored_nonce: str | None,
              nonce: str) -> None:
        """Raise the error a stored object breaking a limit deserves (S3 and moto may not have
        enforced the policy). Shared with the in-memory twin so both fail alike."""
        if size > self.max_bytes:
            raise ft.FaceError(ft.IMAGE_TOO_LARGE, "The photo is too large",
                               {"bytes": size, "max_bytes": self.max_bytes})
        ctype = (content_type or "").split(";")[0].strip().lower()
        if ctype not in self.content_types:
            raise ft.FaceError(ft.UNSUPPORTED_IMAGE, "Only JPEG or PNG photos are accepted",
                               {"content_type": ctype, "allowed": list(self.content_types)})
        if size < self.min_bytes:
            raise ft.FaceError(ft.CORRUPT_IMAGE, "The photo is too small to be an image",
                               {"bytes": size, "min_bytes": self.min_bytes})
        if stored_nonce != nonce:
            raise InvalidInput("The photo was not uploaded for this session", code="nonce_mismatch")

    def check_body(self, data: bytes, content_type: str | None) -> bytes:
        """The bytes read (at most max + 1): too large if the object grew after the check; a
        format other than the declared type (a PNG uploaded as image/jpeg...) is unsupported."""
        if len(data) > self.max_bytes:
            raise ft.FaceError(ft.IMAGE_TOO_LARGE, "The photo is too large",
                               {"max_bytes": self.max_bytes})
        image.check_declared(data, content_type)
        return data


def upload_missing(key: str) -> InvalidInput:
    return InvalidInput("A photo of this session was not uploaded", code="upload_missing",
                        details={"key_index": key.rsplit("/", 1)[-1]})


class S3Uploads:
    """UploadStore over the uploads bucket: presigned POSTs, reads with every limit re-checked,
    deletion after the decision (pixels are never kept)."""

    def __init__(self, s3_client_provider: Provider, bucket: str, max_bytes: int, min_bytes: int,
                 content_types: Iterable[str]):
        self._s3 = s3_client_provider
        self.bucket = bucket
        self.limits = UploadLimits(max_bytes, min_bytes, tuple(content_types))

    def presign(self, key: str, nonce: str, ttl_s: int) -> dict[str, Any]:
        """``{"url", "fields", "key"}`` for one POST within the limits, bound to ``nonce``."""
        try:
            post = self._s3().generate_presigned_post(
                Bucket=self.bucket, Key=key, Fields={NONCE_META: nonce},
                Conditions=self.limits.conditions(nonce), ExpiresIn=ttl_s)
        except (ClientError, BotoCoreError) as exc:
            raise aws_failure(exc, "The upload could not be prepared", "storage_failure") from exc
        return {"url": post["url"], "fields": post["fields"], "key": key}

    def read(self, key: str, nonce: str) -> bytes:
        """The uploaded bytes after checking existence, size, content type and nonce: one
        GetObject, the limits checked on its response's headers before the body is read (then
        at most ``max_bytes + 1`` of it), the stream closed unread when they are broken."""
        with _reading(key, "The photo could not be read"):
            got = self._s3().get_object(Bucket=self.bucket, Key=key)
            body = got["Body"]
            try:
                self.limits.check(key, int(got["ContentLength"]), got.get("ContentType"),
                                  (got.get("Metadata") or {}).get("nonce"), nonce)
                return self.limits.check_body(body.read(self.limits.max_bytes + 1), got.get("ContentType"))
            finally:
                body.close()

    def discard(self, keys: Iterable[str]) -> None:
        """Delete processed photos (1000 per request). Best effort: the bucket's lifecycle
        expiry removes whatever a failed delete leaves."""
        keys = list(keys)
        for i in range(0, len(keys), 1000):
            objects = [{"Key": k} for k in keys[i:i + 1000]]
            try:
                out = self._s3().delete_objects(Bucket=self.bucket,
                                                Delete={"Objects": objects, "Quiet": True})
            except (ClientError, BotoCoreError) as exc:
                logger.warning("uploads not deleted", extra={"count": len(objects),
                                                           "aws": error_code(exc)})
                continue
            if out.get("Errors"):
                logger.warning("uploads not deleted", extra={"count": len(out["Errors"])})

    def keep(self, key: str, evidence_key: str) -> None:
        """A server-side copy (the bytes never pass through the function) under the bucket's
        default encryption (SSE-KMS under the data key)."""
        with _reading(key, "The photo could not be kept for review"):
            self._s3().copy_object(Bucket=self.bucket, Key=evidence_key,
                                   CopySource={"Bucket": self.bucket, "Key": key})

    # --- documents (a request's attachment) ---------------------------------------------------
    def presign_document(self, key: str, nonce: str, content_type: str, max_bytes: int,
                         ttl_s: int) -> dict[str, Any]:
        """A POST of one document of ``content_type`` and at most ``max_bytes``, bound to ``nonce``."""
        try:
            post = self._s3().generate_presigned_post(
                Bucket=self.bucket, Key=key, Fields={NONCE_META: nonce, "Content-Type": content_type},
                Conditions=document_conditions(nonce, content_type, max_bytes), ExpiresIn=ttl_s)
        except (ClientError, BotoCoreError) as exc:
            raise aws_failure(exc, "The upload could not be prepared", "storage_failure") from exc
        return {"url": post["url"], "fields": post["fields"], "key": key}

    def probe(self, key: str, head_bytes: int) -> UploadedObject | None:
        """What is stored under ``key`` (None: nothing) and its first ``head_bytes`` (a ranged GET)."""
        try:
            head = self._s3().head_object(Bucket=self.bucket, Key=key)
            size = int(head["ContentLength"])
            first = b""
            if size:
                first = self._s3().get_object(Bucket=self.bucket, Key=key,
                                              Range=f"bytes=0-{head_bytes - 1}")["Body"].read(head_bytes)
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                return None
            raise aws_failure(exc, "The upload could not be read", "storage_failure") from exc
        except BotoCoreError as exc:
            raise aws_failure(exc, "The upload could not be read", "storage_failure") from exc
        return UploadedObject(size=size, content_type=head.get("ContentType"),
                              nonce=(head.get("Metadata") or {}).get("nonce"), head=first)

    def stream(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The object's bytes ``[start, end)`` as they arrive (one ranged GET, read in chunks):
        an import file of any size is never held whole."""
        rng = {} if start == 0 and end is None else {"Range": f"bytes={start}-{'' if end is None else end - 1}"}
        with _reading(key, "The upload could not be read"):
            body = self._s3().get_object(Bucket=self.bucket, Key=key, **rng)["Body"]
            yield from body.iter_chunks(64 * 1024)

    def download_url(self, key: str, expires_in: int, content_type: str | None = None,
                     filename: str | None = None) -> str:
        """A presigned GET valid for ``expires_in`` seconds (signed locally; no request); with a
        ``filename``, served as ``content_type`` and as a download of that name (a document is
        never rendered inline by a browser on the bucket's origin)."""
        params = {"Bucket": self.bucket, "Key": key}
        if filename:
            params |= {"ResponseContentType": content_type or "application/octet-stream",
                       "ResponseContentDisposition": f'attachment; filename="{filename}"'}
        try:
            return self._s3().generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        except (ClientError, BotoCoreError) as exc:
            raise aws_failure(exc, "The download link could not be prepared", "storage_failure") from exc


def document_conditions(nonce: str, content_type: str, max_bytes: int) -> list[Any]:
    """The POST policy of a document: 1 to ``max_bytes`` bytes, exactly ``content_type``, the nonce."""
    return [["content-length-range", 1, max_bytes], {"Content-Type": content_type}, {NONCE_META: nonce}]


# --- exports ----------------------------------------------------------------------------------

def sse_arguments(kms_key_id: str | None) -> dict[str, str]:
    """PutObject's encryption arguments: SSE-KMS under the exports key when one is configured,
    otherwise none so the bucket's default (SSE-KMS) applies. Never "AES256", which would
    override the bucket's KMS key with S3-managed keys."""
    if kms_key_id:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    return {}


class S3Exports:
    """ExportStore over the exports bucket (versioned, Object Lock): write-once objects (a put
    never replaces one: ``IfNoneMatch="*"``), listings with version ids, reads and presigned
    download URLs naming the version, for auditors."""

    def __init__(self, s3_client_provider: Provider, bucket: str, kms_key_id: str | None):
        self._s3 = s3_client_provider
        self.bucket = bucket
        self.kms_key_id = kms_key_id or None

    def put(self, key: str, body: bytes, content_type: str) -> str | None:
        """Write one new object and return its version id; Conflict ``export_exists`` if the
        key is taken (S3 refuses the conditional write, nothing is replaced). The SHA-256
        checksum is what Object Lock requires of a PutObject."""
        try:
            out = self._s3().put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
                                        ChecksumAlgorithm="SHA256", IfNoneMatch="*",
                                        **sse_arguments(self.kms_key_id))
        except ClientError as exc:
            if error_code(exc) in _TAKEN:
                raise export_exists(key) from exc
            raise aws_failure(exc, "The export could not be written", "export_failure") from exc
        except BotoCoreError as exc:
            raise aws_failure(exc, "The export could not be written", "export_failure") from exc
        return out.get("VersionId")

    def list(self, prefix: str, versions: bool = False) -> list[ExportObject]:
        """Every object under ``prefix``, sorted by key; with ``versions``, each one's version id
        (from one version listing, not a HEAD per object: an object is written once, so its
        current version is its only one)."""
        try:
            if versions:
                pages = self._s3().get_paginator("list_object_versions").paginate(
                    Bucket=self.bucket, Prefix=prefix)
                found = [ExportObject(key=v["Key"], bytes=int(v["Size"]), version_id=v.get("VersionId"))
                         for page in pages for v in page.get("Versions", []) if v.get("IsLatest")]
            else:
                pages = self._s3().get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=prefix)
                found = [ExportObject(key=o["Key"], bytes=int(o["Size"]))
                         for page in pages for o in page.get("Contents", [])]
        except (ClientError, BotoCoreError) as exc:
            raise aws_failure(exc, "The exports could not be listed", "export_failure") from exc
        return sorted(found, key=lambda o: o.key)

    def get(self, key: str, version_id: str | None = None) -> bytes:
        """The object's bytes (that version's, if given); NotFound ``export_not_found``."""
        try:
            return self._s3().get_object(Bucket=self.bucket, Key=key,
                                         **_version(version_id))["Body"].read()
        except ClientError as exc:
            if error_code(exc) in _MISSING + ("NoSuchVersion", "400", "InvalidArgument"):
                raise NotFound("No such export file", code="export_not_found",
                               details={"key": key}) from exc
            raise aws_failure(exc, "The export could not be read", "export_failure") from exc
        except BotoCoreError as exc:
            raise aws_failure(exc, "The export could not be read", "export_failure") from exc

    def download_url(self, key: str, expires_in: int, version_id: str | None = None) -> str:
        """A presigned GET valid for ``expires_in`` seconds (signed locally; no request), of
        exactly ``version_id`` when given."""
        try:
            return self._s3().generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key, **_version(version_id)},
                ExpiresIn=expires_in)
        except (ClientError, BotoCoreError) as exc:
            raise aws_failure(exc, "The download could not be prepared", "export_failure") from exc


_TAKEN = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")


def _version(version_id: str | None) -> dict[str, str]:
    return {"VersionId": version_id} if version_id else {}


def export_exists(key: str) -> Conflict:
    """An export object is never replaced: a second write of a key is refused."""
    return Conflict("This export file exists and is never overwritten", code="export_exists",
                    details={"key": key})
