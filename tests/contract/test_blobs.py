"""Contract: UploadStore, TemplateVault, ExportStore, Notifier and Directory behave the same over AWS
(moto's ``mock_aws`` with every resource from ``local.bootstrap.create_all``) and in memory.

Each port's fixture is parametrised over both implementations and hands the test a small harness:
the adapter plus how to do what the outside world does (a phone uploading, an auditor following a
link) and how to read back what the adapter left behind (head_object, the SNS fan-out, SES).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Callable

import jwt
import pytest
from moto import mock_aws

from chalicelib.adapters.auth import CognitoDirectory
from chalicelib.adapters.memory.blobs import (InMemoryDirectory, InMemoryExports, InMemoryNotifier,
                                              InMemoryUploads, InMemoryVault)
from chalicelib.adapters.notify import SnsSesNotifier
from chalicelib.adapters.s3 import S3Exports, S3Uploads
from chalicelib.adapters.vault import BiometricVaultError, KmsVault
from chalicelib.common import resources as r
from chalicelib.common.errors import Conflict, Internal, InvalidInput, Kind, NotFound, Unauthenticated
from chalicelib.face import types as ft
from tests.conftest import _boto_client

STAGE, AGENCY = "test", "pemkab-demo"
MAX_BYTES, MIN_BYTES, TYPES = 4096, 64, ("image/jpeg", "image/png")
IMPLS = ["aws", "memory"]
NIP, OTHER_NIP = "199001152015032001", "199208202019021003"
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # 1032 bytes: between the limits, PNG's signature
JPEG_PHOTO = b"\xff\xd8\xff" + bytes(range(256)) * 4


def bucket(logical: str) -> str:
    return r.physical_name(AGENCY, STAGE, logical)


@pytest.fixture
def stack():
    """moto with every resource bootstrap creates, the data key (the exports bucket's default
    encryption, as the CDK stack makes it) among them."""
    with mock_aws():
        env = create_all_resources()
        yield {**env, "exports_key_arn": env[r.DATA_KEY.env]}


def create_all_resources() -> dict[str, str]:
    from local.bootstrap import create_all
    return create_all(_boto_client, STAGE, agency=AGENCY)


def provider(service: str) -> Callable[[], Any]:
    return lambda: _boto_client(service)


# --- UploadStore ------------------------------------------------------------------------------

@dataclass
class Uploads:
    store: Any
    put: Callable[[str, bytes, str, str | None], None]  # what the phone's POST leaves behind
    fetch: Callable[[str], bytes | None]  # what a browser's GET of a link returns (None: nothing)
    content_type_of: Callable[[str], str | None]  # a stored object's Content-Type


@pytest.fixture(params=IMPLS)
def uploads(request) -> Uploads:
    if request.param == "memory":
        store = InMemoryUploads(MAX_BYTES, MIN_BYTES, TYPES)
        return Uploads(store, store.put, store.fetch, lambda k: store.objects[k].content_type)
    import requests
    request.getfixturevalue("stack")
    s3 = _boto_client("s3")

    def put(key, data, content_type, nonce):  # mock_aws does not intercept requests' POST
        s3.put_object(Bucket=bucket("uploads"), Key=key, Body=data, ContentType=content_type,
                      Metadata={"nonce": nonce} if nonce is not None else {})

    def fetch(url):
        got = requests.get(url, timeout=5)
        return got.content if got.status_code == 200 else None
    return Uploads(S3Uploads(provider("s3"), bucket("uploads"), MAX_BYTES, MIN_BYTES, TYPES), put, fetch,
                   lambda k: s3.head_object(Bucket=bucket("uploads"), Key=k)["ContentType"])


def test_presign_binds_size_type_and_nonce_to_one_key(uploads):
    # When a POST is presigned for a key
    post = uploads.store.presign("checkin/N/s1/0", "nonce-1", 120)
    # Then it names the key and the nonce, and its policy limits size and type
    assert set(post) == {"url", "fields", "key"} and post["key"] == "checkin/N/s1/0"
    assert post["url"] and post["fields"]["key"] == "checkin/N/s1/0"
    assert post["fields"]["x-amz-meta-nonce"] == "nonce-1"
    conditions = json.loads(base64.b64decode(post["fields"]["policy"]))["conditions"]
    assert ["content-length-range", MIN_BYTES, MAX_BYTES] in conditions
    assert ["starts-with", "$Content-Type", "image/"] in conditions
    assert {"x-amz-meta-nonce": "nonce-1"} in conditions and {"key": "checkin/N/s1/0"} in conditions


def test_read_returns_the_uploaded_bytes(uploads):
    # Given a photo uploaded within the limits for the session's nonce
    uploads.put("checkin/N/s1/0", PHOTO, "image/png", "nonce-1")
    # When it is read with that nonce
    data = uploads.store.read("checkin/N/s1/0", "nonce-1")
    # Then the bytes come back unchanged
    assert data == PHOTO


def test_read_accepts_a_content_type_with_parameters_and_any_case(uploads):
    uploads.put("checkin/N/s1/0", JPEG_PHOTO, "Image/JPEG; charset=binary", "nonce-1")
    assert uploads.store.read("checkin/N/s1/0", "nonce-1") == JPEG_PHOTO


@pytest.mark.parametrize("data, content_type, detected", [
    (PHOTO, "image/jpeg", "PNG"), (JPEG_PHOTO, "image/png", "JPEG"), (b"GIF89a" + PHOTO, "image/png", None),
], ids=["png-as-jpeg", "jpeg-as-png", "gif-as-png"])
def test_read_refuses_bytes_other_than_the_declared_type(uploads, data, content_type, detected):
    # Given a photo whose bytes are not the type its upload declared
    uploads.put("checkin/N/s1/0", data, content_type, "nonce-1")
    # When it is read; then unsupported_image naming both
    with pytest.raises(ft.FaceError) as err:
        uploads.store.read("checkin/N/s1/0", "nonce-1")
    assert (err.value.code, err.value.details) == (ft.UNSUPPORTED_IMAGE,
                                                   {"content_type": content_type, "detected": detected})


def test_read_of_a_photo_never_uploaded_is_upload_missing(uploads):
    # Given nothing was uploaded; when read; then upload_missing naming the photo's index
    with pytest.raises(InvalidInput) as err:
        uploads.store.read("checkin/N/s1/2", "nonce-1")
    assert err.value.code == "upload_missing" and err.value.details == {"key_index": "2"}


@pytest.mark.parametrize("data, content_type, code, kind", [
    (b"x" * (MAX_BYTES + 1), "image/png", ft.IMAGE_TOO_LARGE, Kind.TOO_LARGE),
    (b"x" * (MIN_BYTES - 1), "image/png", ft.CORRUPT_IMAGE, Kind.INVALID),
    (PHOTO, "image/gif", ft.UNSUPPORTED_IMAGE, Kind.UNSUPPORTED),
    (PHOTO, "", ft.UNSUPPORTED_IMAGE, Kind.UNSUPPORTED),
], ids=["too-big", "too-small", "wrong-type", "no-type"])
def test_read_rechecks_size_and_type(uploads, data, content_type, code, kind):
    # Given an object breaking the POST policy (neither moto nor S3 after the fact enforce it)
    uploads.put("checkin/N/s1/0", data, content_type, "nonce-1")
    # When it is read; then the face error for it, with its numbers
    with pytest.raises(ft.FaceError) as err:
        uploads.store.read("checkin/N/s1/0", "nonce-1")
    assert (err.value.code, err.value.kind) == (code, kind)
    if code != ft.UNSUPPORTED_IMAGE:
        assert err.value.details["bytes"] == len(data)


def test_the_size_limit_is_checked_before_the_type(uploads):
    uploads.put("checkin/N/s1/0", b"x" * (MAX_BYTES + 1), "text/plain", "nonce-1")
    with pytest.raises(ft.FaceError) as err:
        uploads.store.read("checkin/N/s1/0", "nonce-1")
    assert err.value.code == ft.IMAGE_TOO_LARGE and err.value.details["max_bytes"] == MAX_BYTES


@pytest.mark.parametrize("stored_nonce", ["nonce-of-another-session", None], ids=["other", "none"])
def test_read_with_another_nonce_is_nonce_mismatch(uploads, stored_nonce):
    # Given a photo uploaded for another session (or without a nonce)
    uploads.put("checkin/N/s1/0", PHOTO, "image/png", stored_nonce)
    # When read for this session; then nonce_mismatch
    with pytest.raises(InvalidInput) as err:
        uploads.store.read("checkin/N/s1/0", "nonce-1")
    assert err.value.code == "nonce_mismatch"


def test_discard_deletes_the_photos_and_ignores_unknown_keys(uploads):
    # Given two uploaded photos
    for i in range(2):
        uploads.put(f"checkin/N/s1/{i}", PHOTO, "image/png", "nonce-1")
    # When they (and a key never uploaded) are discarded
    uploads.store.discard(["checkin/N/s1/0", "checkin/N/s1/1", "checkin/N/s1/9"])
    uploads.store.discard([])
    # Then neither can be read any more
    for i in range(2):
        with pytest.raises(InvalidInput) as err:
            uploads.store.read(f"checkin/N/s1/{i}", "nonce-1")
        assert err.value.code == "upload_missing"


def test_keep_copies_a_photo_to_evidence_that_outlives_the_upload(uploads):
    # Given an uploaded selfie
    uploads.put("checkin/N/s1/0", PHOTO, "image/png", "nonce-1")
    # When it is kept as review evidence and the upload is discarded
    uploads.store.keep("checkin/N/s1/0", "evidence/checkin/N/c1")
    uploads.store.discard(["checkin/N/s1/0"])
    # Then the evidence still holds the same bytes (its nonce copied with it)
    assert uploads.store.read("evidence/checkin/N/c1", "nonce-1") == PHOTO
    # And a short-lived link names it
    url = uploads.store.download_url("evidence/checkin/N/c1", 300)
    assert "evidence/checkin/N/c1" in url and "X-Amz-Expires=300" in url
    # And once decided it is deleted like any upload
    uploads.store.discard(["evidence/checkin/N/c1"])
    with pytest.raises(InvalidInput):
        uploads.store.read("evidence/checkin/N/c1", "nonce-1")


def test_keeping_a_photo_never_uploaded_is_upload_missing(uploads):
    with pytest.raises(InvalidInput) as err:
        uploads.store.keep("checkin/N/s1/0", "evidence/checkin/N/c1")
    assert err.value.code == "upload_missing"


# --- documents (a request's attachment) ---------------------------------------------------------
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8  # 2057 bytes
DOC_KEY, KEPT_KEY = "attachment-uploads/N/rq-1/u1", "attachments/N/rq-1/u1"


def test_a_document_post_binds_its_size_its_exact_type_and_the_nonce(uploads):
    post = uploads.store.presign_document(DOC_KEY, "u1", "application/pdf", 2048, 600)
    assert post["key"] == DOC_KEY and post["fields"]["key"] == DOC_KEY
    assert (post["fields"]["Content-Type"], post["fields"]["x-amz-meta-nonce"]) == ("application/pdf", "u1")
    conditions = json.loads(base64.b64decode(post["fields"]["policy"]))["conditions"]
    assert ["content-length-range", 1, 2048] in conditions
    assert {"Content-Type": "application/pdf"} in conditions and {"x-amz-meta-nonce": "u1"} in conditions
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)


def test_probe_reports_what_is_stored_and_its_first_bytes_checking_nothing(uploads):
    # Given nothing uploaded: nothing to report
    assert uploads.store.probe(DOC_KEY, 16) is None
    # Given a document (of whatever type and nonce: probe only reports)
    uploads.put(DOC_KEY, PDF, "application/pdf", "u1")
    found = uploads.store.probe(DOC_KEY, 16)
    assert (found.size, found.content_type, found.nonce, found.head) == (len(PDF), "application/pdf", "u1", PDF[:16])
    uploads.put(DOC_KEY, b"GIF89a" * 1000, "text/html", None)
    found = uploads.store.probe(DOC_KEY, 16)
    assert (found.size, found.content_type, found.nonce, found.head[:6]) == (6000, "text/html", None, b"GIF89a")


def test_a_kept_document_is_served_by_a_download_link_of_its_type(uploads):
    # Given a document uploaded, kept under attachments/ (its type and nonce copied with it), the
    # upload discarded
    uploads.put(DOC_KEY, PDF, "application/pdf", "u1")
    uploads.store.keep(DOC_KEY, KEPT_KEY)
    uploads.store.discard([DOC_KEY])
    kept = uploads.store.probe(KEPT_KEY, 16)
    assert (kept.size, kept.nonce, kept.head) == (len(PDF), "u1", PDF[:16])
    assert uploads.content_type_of(KEPT_KEY) == "application/pdf" and uploads.store.probe(DOC_KEY, 16) is None
    # When a download link is signed
    url = uploads.store.download_url(KEPT_KEY, 300, "application/pdf", "rq-1.pdf")
    # Then it is short-lived, served as a download of that type, and returns the bytes
    assert "X-Amz-Expires=300" in url and "response-content-disposition=attachment" in url
    assert "response-content-type=application%2Fpdf" in url
    assert uploads.fetch(url) == PDF
    # And once the document is deleted it serves nothing
    uploads.store.discard([KEPT_KEY])
    assert uploads.fetch(url) is None


# --- TemplateVault ----------------------------------------------------------------------------

TEMPLATE = {"model_version": "fake-colour-1", "embeddings": {"arcface": {"shape": [2],
                                                                         "data": "AACAPwAAAEA="}}}


@pytest.fixture(params=IMPLS)
def vault(request):
    if request.param == "memory":
        return InMemoryVault()
    env = request.getfixturevalue("stack")
    return KmsVault(provider("kms"), env[r.BIOMETRIC_KEY.env])


def test_vault_round_trip_returns_the_template(vault):
    # When a template is sealed for an employee and unsealed for the same employee
    sealed = vault.seal(NIP, TEMPLATE)
    # Then it comes back equal, and what is stored reveals nothing of it
    assert vault.unseal(NIP, sealed) == TEMPLATE
    assert b"embeddings" not in sealed.ciphertext and b"arcface" not in sealed.encrypted_key
    assert sealed.key_id and len(sealed.nonce) == 12 and sealed.model_version == "fake-colour-1"


def test_each_seal_uses_a_fresh_data_key_and_nonce(vault):
    a, b = vault.seal(NIP, TEMPLATE), vault.seal(NIP, TEMPLATE)
    assert a.encrypted_key != b.encrypted_key and a.nonce != b.nonce and a.ciphertext != b.ciphertext


def test_a_template_cannot_be_unsealed_as_another_employees(vault):
    # Given Ayu's sealed template; when unsealed for Made; then an integrity failure
    sealed = vault.seal(NIP, TEMPLATE)
    with pytest.raises(BiometricVaultError) as err:
        vault.unseal(OTHER_NIP, sealed)
    assert err.value.code == "biometric_vault_error" and err.value.details == {"reason": "integrity"}


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "encrypted_key"])
def test_an_altered_template_fails_its_integrity_check(vault, field):
    # Given a sealed template with one bit of its last byte flipped at rest (moto reads the key
    # id from the head of a KMS ciphertext blob; real KMS refuses any change as invalid)
    sealed = vault.seal(NIP, TEMPLATE)
    value = getattr(sealed, field)
    tampered = sealed.model_copy(update={field: value[:-1] + bytes([value[-1] ^ 1])})
    # When unsealed; then refused, never decoded
    with pytest.raises(BiometricVaultError) as err:
        vault.unseal(NIP, tampered)
    assert err.value.details == {"reason": "integrity"}
    assert isinstance(err.value, Internal)


# --- ExportStore ------------------------------------------------------------------------------

PREFIX = f"attendance/date=2026-03-03/agency={AGENCY}/"


@dataclass
class Exports:
    make: Callable[[str | None], Any]  # the store, writing with this KMS key id (or none)
    head: Callable[[str], dict]  # head_object's fields of a stored object
    fetch: Callable[[str], bytes]  # what an auditor's GET of a download URL returns
    exports_key: str  # the exports' KMS key
    bucket_key: str  # the key of the bucket's default encryption


@pytest.fixture(params=IMPLS)
def exports(request) -> Exports:
    if request.param == "memory":
        key = "arn:aws:kms:memory:000000000000:key/exports"
        stores: list[InMemoryExports] = []

        def make(kms_key_id):
            stores.append(InMemoryExports(kms_key_id, bucket_kms_key_id=key))
            return stores[-1]
        return Exports(make, lambda k: stores[-1].head(k), lambda u: stores[-1].fetch(u), key, key)
    import requests
    env = request.getfixturevalue("stack")
    s3 = _boto_client("s3")
    return Exports(lambda kid: S3Exports(provider("s3"), bucket("exports"), kid),
                   lambda k: s3.head_object(Bucket=bucket("exports"), Key=k),
                   lambda u: requests.get(u, timeout=5).content,
                   env["exports_key_arn"], env["exports_key_arn"])


def given_an_export(store) -> None:
    store.put(PREFIX + "records.csv", b"nip,decision\n1,accepted\n", "text/csv")
    store.put(PREFIX + "manifest.json", b'{"rows": 1}', "application/json")
    store.put("attendance/date=2026-03-04/agency=pemkab-demo/records.csv", b"x", "text/csv")


def test_exports_put_then_list_and_get(exports):
    # Given a day's export written
    store = exports.make(exports.exports_key)
    given_an_export(store)
    # When the day's prefix is listed and a file read
    listed = store.list(PREFIX)
    # Then exactly that day's files, sorted by key, with their sizes; and the bytes as written
    assert [(o.key, o.bytes) for o in listed] == [(PREFIX + "manifest.json", 11),
                                                  (PREFIX + "records.csv", 24)]
    assert store.get(PREFIX + "records.csv") == b"nip,decision\n1,accepted\n"
    assert store.list("attendance/date=2026-03-05/") == []


def test_get_of_a_missing_export_is_not_found(exports):
    store = exports.make(exports.exports_key)
    with pytest.raises(NotFound) as err:
        store.get(PREFIX + "records.csv")
    assert err.value.code == "export_not_found"


def test_download_url_serves_the_file(exports):
    # Given an export; when an auditor follows its download URL; then the file's bytes
    store = exports.make(exports.exports_key)
    given_an_export(store)
    url = store.download_url(PREFIX + "manifest.json", 900)
    assert isinstance(url, str) and url
    assert exports.fetch(url) == b'{"rows": 1}'


def test_exports_are_encrypted_with_the_exports_kms_key_never_aes256(exports):
    # Given the store configured with the exports' KMS key
    store = exports.make(exports.exports_key)
    # When a file is written
    store.put(PREFIX + "records.csv", b"nip\n", "text/csv")
    # Then S3 reports SSE-KMS under exactly that key, and the content type as given
    head = exports.head(PREFIX + "records.csv")
    assert head["ServerSideEncryption"] == "aws:kms" != "AES256"
    assert head["SSEKMSKeyId"] == exports.exports_key
    assert head["ContentType"] == "text/csv"


def test_without_a_configured_key_the_buckets_kms_default_applies(exports):
    # Given the store configured with no key id (the bucket's default encryption is SSE-KMS)
    store = exports.make(None)
    # When a file is written
    store.put(PREFIX + "manifest.json", b"{}", "application/json")
    # Then no AES256 overrides the bucket's key: the object is under the bucket's KMS key
    head = exports.head(PREFIX + "manifest.json")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == exports.bucket_key


def test_an_export_is_never_overwritten(exports):
    # Given a file written (its version id returned)
    store = exports.make(exports.exports_key)
    version = store.put(PREFIX + "run=1/records.csv", b"nip\n1\n", "text/csv")
    assert version
    # When the same key is written again
    with pytest.raises(Conflict) as err:
        store.put(PREFIX + "run=1/records.csv", b"nip\n2\n", "text/csv")
    # Then the write is refused, the first bytes stay, and that is still the only version
    assert err.value.code == "export_exists" and err.value.details == {"key": PREFIX + "run=1/records.csv"}
    assert store.get(PREFIX + "run=1/records.csv") == b"nip\n1\n"
    assert exports.head(PREFIX + "run=1/records.csv")["VersionId"] == version
    assert [o.version_id for o in store.list(PREFIX, versions=True)] == [version]


def test_exports_are_listed_read_and_served_by_version(exports):
    # Given two runs' files
    store = exports.make(exports.exports_key)
    v1 = store.put(PREFIX + "run=1/manifest.json", b'{"run": 1}', "application/json")
    v2 = store.put(PREFIX + "run=2/manifest.json", b'{"run": 2}', "application/json")
    # When listed with versions; then each object's own version, sorted by key
    assert [(o.key, o.version_id) for o in store.list(PREFIX, versions=True)] == [
        (PREFIX + "run=1/manifest.json", v1), (PREFIX + "run=2/manifest.json", v2)]
    assert [o.version_id for o in store.list(PREFIX)] == [None, None]  # not asked: no HEADs
    # And a read or a download URL of that version gives exactly its bytes
    assert store.get(PREFIX + "run=2/manifest.json", v2) == b'{"run": 2}'
    url = store.download_url(PREFIX + "run=1/manifest.json", 900, v1)
    assert f"versionId={v1}" in url and exports.fetch(url) == b'{"run": 1}'
    # And a version id of another object finds nothing
    with pytest.raises(NotFound) as err:
        store.get(PREFIX + "run=1/manifest.json", v2)
    assert err.value.code == "export_not_found"


# --- Notifier ---------------------------------------------------------------------------------

NOTICE = {"kind": "absence_notice", "zone": "WITA", "date": "2026-03-03",
          "supervisor_nip": "197805122005011002", "supervisor_email": "ketut@example.go.id",
          "absentees": [{"nip": NIP, "name": "Ayu", "office_id": "denpasar"}]}
SENDER = "hadir-noreply@example.go.id"


@dataclass
class Notices:
    notifier: Any
    published: Callable[[], list[dict]]  # [{"notice", "subject", "kind"}] as delivered
    sent: Callable[[], list[dict]]  # [{"source", "to", "subject", "body"}]


@pytest.fixture(params=IMPLS)
def notices(request) -> Notices:
    if request.param == "memory":
        n = InMemoryNotifier(SENDER)
        return Notices(n, lambda: n.published, lambda: n.sent)
    env = request.getfixturevalue("stack")
    topic = env[r.SUPERVISOR_TOPIC.env]
    notifier = SnsSesNotifier(provider("sns"), provider("ses"), topic, env[r.SES_SENDER_ENV])
    return Notices(notifier, lambda: _delivered(topic), _sent_by_ses)


def _delivered(topic_arn: str) -> list[dict]:
    """What reached the e-mail queue bootstrap subscribed to the topic (raw delivery), with the
    subject SNS kept (raw delivery drops it)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends
    sqs = _boto_client("sqs")
    url = sqs.get_queue_url(QueueName=r.physical_name(AGENCY, STAGE, r.EMAIL_QUEUE.logical))["QueueUrl"]
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                               MessageAttributeNames=["All"]).get("Messages", [])
    region = _boto_client("sns").meta.region_name
    subjects = [n[2] for n in sns_backends[DEFAULT_ACCOUNT_ID][region].topics[topic_arn]
                .sent_notifications]
    return [{"notice": json.loads(m["Body"]), "subject": s,
             "kind": m["MessageAttributes"]["kind"]["StringValue"]} for m, s in zip(msgs, subjects)]


def _sent_by_ses() -> list[dict]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    region = _boto_client("ses").meta.region_name
    return [{"source": m.source, "to": m.destinations["ToAddresses"][0], "subject": m.subject,
             "body": m.body} for m in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages]


def test_publish_delivers_the_notice_with_its_kind(notices):
    # When a supervisor notice is published
    notices.notifier.publish(NOTICE, "Hadir: 1 absent on 2026-03-03")
    # Then the topic delivers it once, as JSON, with kind as a message attribute
    assert notices.published() == [{"notice": NOTICE, "subject": "Hadir: 1 absent on 2026-03-03",
                                     "kind": "absence_notice"}]


def test_publish_cuts_the_subject_to_what_sns_accepts(notices):
    notices.notifier.publish(NOTICE, "Hadir: " + "x" * 200)
    (only,) = notices.published()
    assert len(only["subject"]) == 99 and only["subject"].startswith("Hadir: x")


def test_a_notice_without_a_kind_is_refused(notices):
    with pytest.raises(Internal) as err:
        notices.notifier.publish({"date": "2026-03-03"}, "Hadir")
    assert err.value.code == "notice_without_kind" and notices.published() == []


def test_send_email_goes_from_the_sender_to_the_address(notices):
    # When an e-mail is sent
    notices.notifier.send_email("ketut@example.go.id", "Hadir: absences", "- 1 Ayu (denpasar)")
    # Then SES sends exactly it, from the configured sender
    assert notices.sent() == [{"source": SENDER, "to": "ketut@example.go.id",
                               "subject": "Hadir: absences", "body": "- 1 Ayu (denpasar)"}]


# --- Directory --------------------------------------------------------------------------------

PASSWORD = "Hadir-demo-2026"


@pytest.fixture(params=IMPLS)
def directory(request):
    if request.param == "memory":
        return InMemoryDirectory(AGENCY)
    env = request.getfixturevalue("stack")
    return CognitoDirectory(provider("cognito-idp"), env[r.USER_POOL.pool_id_env],
                            env[r.USER_POOL.client_id_env], AGENCY)


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_upsert_then_login_returns_tokens_naming_the_user_and_roles(directory):
    # Given a user created with a password, a NIP and two role groups
    directory.upsert_user(NIP, PASSWORD, nip=NIP, name="Ayu", groups=["employee", "supervisor"])
    # When they sign in
    tokens = directory.login(NIP, PASSWORD)
    # Then three tokens; the ID token names them, their NIP, agency and groups
    assert set(tokens) == {"id_token", "access_token", "refresh_token", "expires_in"}
    assert tokens["refresh_token"] and tokens["expires_in"] > 0
    c = claims(tokens["id_token"])
    assert c["token_use"] == "id" and c["cognito:username"] == NIP and c["sub"]
    assert (c["custom:nip"], c["custom:agency_id"]) == (NIP, AGENCY)
    assert set(c["cognito:groups"]) == {"employee", "supervisor"}
    assert claims(tokens["access_token"])["token_use"] == "access"


@pytest.mark.parametrize("username, password", [(NIP, "wrong-password"), ("nobody", PASSWORD)],
                         ids=["wrong-password", "unknown-user"])
def test_wrong_credentials_are_invalid_credentials(directory, username, password):
    directory.upsert_user(NIP, PASSWORD, nip=NIP, name="Ayu", groups=["employee"])
    with pytest.raises(Unauthenticated) as err:
        directory.login(username, password)
    assert err.value.code == "invalid_credentials"


def test_a_user_created_without_password_cannot_sign_in(directory):
    directory.upsert_user("auditor", None, nip=None, name="Auditor", groups=["auditor"])
    with pytest.raises(Unauthenticated) as err:
        directory.login("auditor", PASSWORD)
    assert err.value.code == "invalid_credentials"


def test_re_import_demotes_and_keeps_the_password(directory):
    # Given a supervisor
    directory.upsert_user(NIP, PASSWORD, nip=NIP, name="Ayu", groups=["employee", "supervisor"])
    # When the personnel list is imported again without the role and without a password
    directory.upsert_user(NIP, None, nip=NIP, name="Ayu Lestari", groups=["employee"])
    # Then the old password still works and the role group is gone
    c = claims(directory.login(NIP, PASSWORD)["id_token"])
    assert set(c["cognito:groups"]) == {"employee"}


def test_a_new_password_replaces_the_old_one(directory):
    directory.upsert_user(NIP, PASSWORD, nip=NIP, name="Ayu", groups=["employee"])
    directory.upsert_user(NIP, PASSWORD + "-new", nip=NIP, name="Ayu", groups=["employee"])
    assert directory.login(NIP, PASSWORD + "-new")["id_token"]
    with pytest.raises(Unauthenticated):
        directory.login(NIP, PASSWORD)


def test_a_password_below_the_policy_is_invalid_password(directory):
    with pytest.raises(InvalidInput) as err:
        directory.upsert_user(NIP, "short", nip=NIP, name="Ayu", groups=["employee"])
    assert err.value.code == "invalid_password"


def test_an_unknown_group_is_unknown_group(directory):
    with pytest.raises(InvalidInput) as err:
        directory.upsert_user(NIP, PASSWORD, nip=NIP, name="Ayu", groups=["employee", "root"])
    assert err.value.code == "unknown_group" and err.value.details == {"group": "root"}


# --- AWS adapters only: lazy clients, no botocore error escapes ---------------------------------

def test_adapters_create_no_client_until_first_use():
    def boom():
        raise AssertionError("client created at construction")
    S3Uploads(boom, "b", MAX_BYTES, MIN_BYTES, TYPES), S3Exports(boom, "b", None)
    KmsVault(boom, "k"), SnsSesNotifier(boom, boom, "arn", SENDER)
    CognitoDirectory(boom, "pool", "client", AGENCY)


def test_a_missing_bucket_is_an_internal_error_not_a_botocore_one(stack):
    # Given the exports store pointed at a bucket that does not exist (misconfiguration)
    exports = S3Exports(provider("s3"), "hadir-test-nowhere", None)
    # Then every call fails with the service's own Internal error (the AWS code is only logged)
    for call in (lambda: exports.list(PREFIX), lambda: exports.put(PREFIX + "x", b"x", "text/csv")):
        with pytest.raises(Internal) as err:
            call()
        assert err.value.code == "export_failure" and err.value.details == {}


def test_local_bootstrap_gives_the_uploads_bucket_the_stacks_rules(stack):
    # (the CDK side is tests/infra/test_synth.py; both come from resources.uploads_expiry)
    rules = _boto_client("s3").get_bucket_lifecycle_configuration(Bucket=bucket("uploads"))["Rules"]
    assert {(x["Filter"]["Prefix"], x["Expiration"]["Days"]) for x in rules} == {
        (e.prefix, e.days) for e in r.uploads_expiry()}
    assert {x["Filter"]["Prefix"] for x in rules} >= {"checkin/", "evidence/", "attachments/"}


# --- KmsVault's data key cache (AWS adapter only) ------------------------------------------------

def _counting_kms(env):
    calls = []

    def kms():
        client = provider("kms")()
        calls.append(1)
        return client
    return kms, calls


def test_a_cached_data_key_unseals_again_without_kms_until_it_expires(stack):
    # Given a vault keeping data keys 300 s, on a clock the test moves
    from chalicelib.adapters.vault import DataKeyCache
    now = [0.0]
    kms, calls = _counting_kms(stack)
    vault = KmsVault(kms, stack[r.BIOMETRIC_KEY.env], DataKeyCache(300, 10, clock=lambda: now[0]))
    sealed = vault.seal(NIP, TEMPLATE)
    # When unsealed twice, then once more after the key's time is up
    assert vault.unseal(NIP, sealed) == TEMPLATE and vault.unseal(NIP, sealed) == TEMPLATE
    decrypts_warm = len(calls) - 1  # the seal's GenerateDataKey aside
    now[0] = 301.0
    assert vault.unseal(NIP, sealed) == TEMPLATE
    # Then KMS decrypted once while the key was cached, and again after it expired
    assert decrypts_warm == 1 and len(calls) - 1 == 2


def test_a_cached_data_key_never_opens_a_template_for_another_employee_or_an_altered_one(stack):
    from chalicelib.adapters.vault import DataKeyCache
    vault = KmsVault(provider("kms"), stack[r.BIOMETRIC_KEY.env], DataKeyCache(300, 10))
    sealed = vault.seal(NIP, TEMPLATE)
    assert vault.unseal(NIP, sealed) == TEMPLATE  # the key is cached for (NIP, encrypted key)
    tampered = sealed.model_copy(update={"ciphertext": sealed.ciphertext[:-1] + bytes([sealed.ciphertext[-1] ^ 1])})
    for nip, s in ((OTHER_NIP, sealed), (NIP, tampered)):
        with pytest.raises(BiometricVaultError) as err:
            vault.unseal(nip, s)
        assert err.value.details == {"reason": "integrity"}


def test_the_cache_holds_at_most_its_size_least_recently_used_out(stack):
    from chalicelib.adapters.vault import DataKeyCache
    cache = DataKeyCache(300, 2)
    for i in range(3):
        cache.put(f"nip{i}", b"k", bytes([i]))
    assert cache.get("nip0", b"k") is None and cache.get("nip2", b"k") == bytes([2])
    assert DataKeyCache(0, 2).get("x", b"k") is None
