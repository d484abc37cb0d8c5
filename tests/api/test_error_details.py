"""What a client is told about a failure names Hadir's codes only: no AWS error code, no exception
class name, no AWS message. Given every adapter whose client fails with each of many AWS errors (a
fake raising botocore's ClientError or a connection error) and every PyJWT refusal, when the
error becomes a response, then its body names none of them."""
from __future__ import annotations

import json
import re
from typing import Any, Callable

import jwt
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from chalicelib.adapters import auth
from chalicelib.adapters.auth import CognitoDirectory, verify_id_token
from chalicelib.adapters.notify import SnsSesNotifier
from chalicelib.adapters.s3 import S3Exports, S3Uploads
from chalicelib.adapters.vault import KmsVault
from chalicelib.common.http import error_response
from chalicelib.common.settings import load_settings
from chalicelib.services.records import SealedTemplate

AWS_CODES = ("AccessDenied", "AccessDeniedException", "NoSuchBucket", "NoSuchKey", "ThrottlingException",
             "InternalError", "KMSInvalidStateException", "InvalidCiphertextException", "DisabledException",
             "NotAuthorizedException", "UserNotFoundException", "InvalidParameterException",
             "UsernameExistsException", "InvalidPasswordException", "ResourceNotFoundException",
             "TooManyRequestsException", "MessageRejected", "ServiceUnavailable")
AWS_MESSAGE = "User 199001152015032001 arn:aws:kms:ap-southeast-3:123456789012:key/abc is not authorized"
CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]+(?:Error|Exception|Warning)\b")


def client_error(code: str) -> ClientError:
    status = 503 if code in ("ServiceUnavailable", "InternalError") else 400
    return ClientError({"Error": {"Code": code, "Message": AWS_MESSAGE},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "Operation")


FAILURES: list[tuple[str, Exception]] = [
    *((code, client_error(code)) for code in AWS_CODES),
    ("EndpointConnectionError", EndpointConnectionError(endpoint_url="https://kms.example")),
    ("ReadTimeoutError", ReadTimeoutError(endpoint_url="https://s3.example")),
]


class FailingClient:
    """A boto3 client every call of which (paginators included) raises ``exc``."""

    def __init__(self, exc: Exception):
        self.exc = exc

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def fail(*_: Any, **__: Any) -> Any:
            raise self.exc
        return fail


def calls(client: FailingClient) -> dict[str, Callable[[], Any]]:
    """Every adapter operation that talks to AWS, over ``client``."""
    provider = lambda: client  # noqa: E731
    uploads = S3Uploads(provider, "uploads", 5_000_000, 1024, ("image/jpeg",))
    exports = S3Exports(provider, "exports", "alias/data")
    vault = KmsVault(provider, "alias/biometrics")
    notifier = SnsSesNotifier(provider, provider, "arn:topic", "noreply@example.go.id")
    directory = CognitoDirectory(provider, "pool", "client", "agency")
    sealed = SealedTemplate(ciphertext=b"c", encrypted_key=b"k", nonce=b"n" * 12, key_id="k")
    return {
        "uploads.presign": lambda: uploads.presign("checkin/x", "n", 60),
        "uploads.read": lambda: uploads.read("checkin/x", "n"),
        "uploads.keep": lambda: uploads.keep("checkin/x", "evidence/x"),
        "uploads.presign_document": lambda: uploads.presign_document("attachment-uploads/x", "n",
                                                                     "application/pdf", 2048, 60),
        "uploads.probe": lambda: uploads.probe("attachment-uploads/x", 16),
        "uploads.download_url": lambda: uploads.download_url("evidence/x", 60),
        "exports.put": lambda: exports.put("2025/03/03.csv", b"x", "text/csv"),
        "exports.list": lambda: exports.list("2025/"),
        "exports.get": lambda: exports.get("2025/03/03.csv"),
        "exports.download_url": lambda: exports.download_url("2025/03/03.csv", 60),
        "vault.seal": lambda: vault.seal("199001152015032001", {"model_version": "m"}),
        "vault.unseal": lambda: vault.unseal("199001152015032001", sealed),
        "notifier.publish": lambda: notifier.publish({"kind": "absence"}, "subject"),
        "notifier.send_email": lambda: notifier.send_email("a@example.go.id", "s", "b"),
        "directory.login": lambda: directory.login("199001152015032001", "pw"),
        "directory.upsert_user": lambda: directory.upsert_user("199001152015032001", "pw",
                                                               nip="199001152015032001", name="Ayu",
                                                               groups=["employee"]),
    }


def body_of(run: Callable[[], Any]) -> str | None:
    """The response body the failure becomes (None: the call did not fail)."""
    try:
        run()
    except Exception as exc:  # noqa: BLE001 - whatever it is, http.py makes it a response
        return json.dumps(json.loads(json.dumps(error_response(exc).body)))
    return None


def assert_names_nothing_of_aws(body: str, *names: str) -> None:
    for name in filter(None, names):
        assert name not in body
    assert not CLASS_NAME.search(body), body
    assert "botocore" not in body and "arn:aws" not in body and "not authorized" not in body
    assert "199001152015032001" not in body


@pytest.mark.parametrize("name,exc", FAILURES, ids=[n for n, _ in FAILURES])
def test_no_adapter_error_names_the_aws_failure(name, exc):
    failed = 0
    for op, run in calls(FailingClient(exc)).items():
        body = body_of(run)
        if body is not None:
            failed += 1
            assert_names_nothing_of_aws(body, name, "ClientError"), op
    assert failed >= 10  # presigning may succeed without a call; everything else failed


TOKEN_ERRORS = [jwt.InvalidSignatureError(), jwt.DecodeError("Not enough segments"),
                jwt.InvalidAudienceError("Audience doesn't match"), jwt.InvalidIssuerError("Invalid issuer"),
                jwt.MissingRequiredClaimError("token_use"), jwt.ImmatureSignatureError(),
                jwt.InvalidAlgorithmError("The specified alg value is not allowed"),
                jwt.PyJWKClientError('Unable to find a signing key that matches: "kid"'),
                jwt.InvalidTokenError("odd"), jwt.ExpiredSignatureError(),
                jwt.PyJWKClientConnectionError("Fail to fetch data from the url, err: timed out")]


@pytest.mark.parametrize("exc", TOKEN_ERRORS, ids=[type(e).__name__ for e in TOKEN_ERRORS])
def test_a_refused_token_names_hadir_reasons_only(monkeypatch, exc):
    class Keys:
        def get_signing_key_from_jwt(self, token: str) -> Any:
            raise exc
    monkeypatch.setattr(auth, "_jwks_client", lambda url: Keys())
    s = load_settings({"HADIR_STAGE": "test", "HADIR_JWKS_URL": "http://jwks", "HADIR_USER_POOL_CLIENT_ID": "c",
                       "HADIR_JWT_ISSUER": "https://cognito-idp.ap-southeast-3.amazonaws.com/pool"})
    body = body_of(lambda: verify_id_token("eyJ.eyJ.sig", s))
    assert body is not None
    assert_names_nothing_of_aws(body, type(exc).__name__, "PyJWT", str(exc))
    error = json.loads(body)["error"]
    assert error["code"] in ("invalid_token", "token_expired", "jwks_unavailable")
    assert error["details"].get("reason", "invalid") in {r for _, r in auth._TOKEN_PROBLEMS} | {"invalid"}


@pytest.mark.parametrize("data", [b"\xff\xd8\xff\xe0" + b"\x00" * 2000, b"\x89PNG\r\n\x1a\n" + b"\x01" * 2000])
def test_an_unreadable_photo_names_no_imaging_library_error(data):
    from chalicelib.face.config import FaceConfig
    from chalicelib.face.image import decode
    body = body_of(lambda: decode(data, FaceConfig()))
    assert body is not None and json.loads(body)["error"]["code"] == "corrupt_image"
    assert_names_nothing_of_aws(body)


def test_the_aws_code_is_logged_server_side_only():
    import logging

    from chalicelib.common.logs import logger
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        body = body_of(calls(FailingClient(client_error("AccessDeniedException")))["exports.put"])
    finally:
        logger.removeHandler(handler)
    assert json.loads(body or "{}")["error"]["code"] == "export_failure"
    assert [(r.aws_error, r.code) for r in records if r.getMessage() == "aws call failed"] == \
        [("AccessDeniedException", "export_failure")]


def test_a_cognito_challenge_is_named_in_hadir_words():
    class Challenging:
        def initiate_auth(self, **_: Any) -> dict[str, Any]:
            return {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": "s"}
    directory = CognitoDirectory(lambda: Challenging(), "pool", "client", "agency")
    error = json.loads(body_of(lambda: directory.login("ayu", "pw")) or "{}")["error"]
    assert (error["code"], error["details"]) == ("challenge_required", {"challenge": "new_password_required"})
