"""POST /auth/login and token verification in the application (signature, issuer, audience,
expiry, token use) and roles from Cognito groups."""
import gzip
import json
import pathlib
import time

import jwt
import pytest

from tests.api.helpers import AYU, KETUT


def _moto_private_key():
    import moto.cognitoidp as c
    jwk = json.loads(gzip.decompress((pathlib.Path(c.__file__).parent / "resources" /
                                      "jwks-private.json.gz").read_bytes()))
    return jwt.PyJWK(jwk if "kty" in jwk else jwk["keys"][0]).key


def _claims_of(api, user):
    return jwt.decode(api.token(user), options={"verify_signature": False})


def test_login_returns_cognito_tokens(api):
    r = api.post("/auth/login", {"username": AYU, "password": api.password})
    assert r.status_code == 200
    assert {"id_token", "access_token", "refresh_token", "expires_in"} <= set(r.json)
    claims = jwt.decode(r.json["id_token"], options={"verify_signature": False})
    assert claims["custom:nip"] == AYU and "employee" in claims["cognito:groups"]


def test_a_refresh_token_gives_new_tokens_that_the_api_accepts(api):
    # Given a signed-in employee's refresh token
    tokens = api.post("/auth/login", {"username": AYU, "password": api.password}).json
    # When the app refreshes
    r = api.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    # Then it gets new ID and access tokens for the same person, which the API takes
    assert r.status_code == 200, r.json
    claims = jwt.decode(r.json["id_token"], options={"verify_signature": False})
    assert claims["custom:nip"] == AYU and claims["token_use"] == "id"
    assert r.json["expires_in"] > 0 and r.json["access_token"]
    me = api.get("/me", token=r.json["id_token"])
    assert me.status_code == 200 and me.json["nip"] == AYU


def test_an_unknown_refresh_token_is_a_401_and_counts_no_sign_in_failure(api):
    # Given a refresh token Cognito never issued (forged)
    forged = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.forged"
    # When it is sent, Then 401 invalid_refresh_token
    r = api.post("/auth/refresh", {"refresh_token": forged})
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_refresh_token"
    # And the employee can still sign in (a refresh is not a password guess)
    assert api.post("/auth/login", {"username": AYU, "password": api.password}).status_code == 200


@pytest.mark.parametrize("body, code, problem", [
    ({}, "missing_fields", "missing"),
    ({"refresh_token": ""}, "invalid_request", "string_too_short"),
    ({"refresh_token": "x" * 8193}, "invalid_request", "string_too_long"),
    ({"refresh_token": "two words"}, "invalid_request", "string_pattern_mismatch"),
    ({"refresh_token": 12345}, "invalid_request", "string_type")])
def test_a_malformed_refresh_request_is_a_422_naming_the_field(api, body, code, problem):
    # When the body is missing the token, empty, oversized, not printable ASCII or not a string
    r = api.post("/auth/refresh", body)
    # Then 422 with the problem on refresh_token
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == code
    assert [(p["field"], p["code"]) for p in r.json["error"]["details"]["problems"]] == [("refresh_token", problem)]


def test_wrong_password_is_a_401(api):
    r = api.post("/auth/login", {"username": AYU, "password": "wrong-password"})
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_credentials"


def test_login_without_fields_is_a_422(api):
    r = api.post("/auth/login", {"username": AYU})
    assert r.status_code == 422 and r.json["error"]["details"]["fields"] == ["password"]


def test_login_with_broken_json_is_a_400(api):
    r = api.post("/auth/login", raw=b"{nope")
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_json"


def test_missing_token_is_a_401(api):
    r = api.get("/me")
    assert r.status_code == 401 and r.json["error"]["code"] == "missing_token"


def test_forged_signature_is_a_401(api):
    header, payload, sig = api.token(AYU).split(".")
    forged = ".".join([header, payload, sig[:-6] + ("AAAAAA" if not sig.endswith("AAAAAA") else "BBBBBB")])
    r = api.get("/me", token=forged)
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_token"


def test_token_with_edited_claims_is_a_401(api):
    import base64
    header, payload, sig = api.token(AYU).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["cognito:groups"] = ["admin"]
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    r = api.post("/admin/offices", {}, token=f"{header}.{edited}.{sig}")
    assert r.status_code == 401


@pytest.mark.parametrize("change,code", [
    ({"exp": int(time.time()) - 60}, "token_expired"),
    ({"aud": "some-other-client"}, "invalid_token"),
    ({"iss": "https://cognito-idp.ap-southeast-3.amazonaws.com/other_pool"}, "invalid_token"),
    ({"token_use": "access"}, "invalid_token"),
])
def test_tokens_failing_a_claim_check_are_a_401(api, change, code):
    # Given a token signed with the right key but one claim wrong
    claims = {**_claims_of(api, AYU), **change}
    token = jwt.encode(claims, _moto_private_key(), algorithm="RS256", headers={"kid": "dummy"})
    # When
    r = api.get("/me", token=token)
    # Then
    assert r.status_code == 401 and r.json["error"]["code"] == code


def test_unsigned_token_is_a_401(api):
    # Given the right claims with "alg": "none"
    token = jwt.encode(_claims_of(api, AYU), None, algorithm="none", headers={"kid": "dummy"})
    # When / Then
    r = api.get("/me", token=token)
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_token"


def test_hs256_token_keyed_with_the_public_key_is_a_401(api):
    # Given the right claims, HMAC-signed with the JWKS public key (the RS256/HS256 confusion)
    from cryptography.hazmat.primitives import serialization
    public_pem = _moto_private_key().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    import hashlib
    import hmac
    import base64

    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=")
    signing_input = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "dummy"}).encode()) + b"." + \
        b64(json.dumps(_claims_of(api, AYU)).encode())
    token = (signing_input + b"." + b64(hmac.new(public_pem, signing_input, hashlib.sha256).digest())).decode()
    # When / Then
    r = api.get("/me", token=token)
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_token"


def test_a_correctly_signed_token_with_the_right_claims_passes(api):
    token = jwt.encode(_claims_of(api, AYU), _moto_private_key(), algorithm="RS256",
                       headers={"kid": "dummy"})
    assert api.get("/me", token=token).status_code == 200


@pytest.mark.parametrize("method,path,user", [
    ("POST", "/admin/offices", AYU),
    ("POST", "/admin/employees", KETUT),
    ("DELETE", f"/admin/employees/{AYU}/enrollment", "auditor"),
    ("GET", "/team/attendance", AYU),
    ("GET", "/audit/exports?date=2026-03-03", AYU),
    ("GET", "/audit/exports?date=2026-03-03", KETUT),
    ("POST", "/checkins/uploads", "auditor"),
])
def test_wrong_role_is_a_403(api, method, path, user):
    r = api.call(method, path, {} if method == "POST" else None, user=user)
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden", r.json


def test_admin_without_nip_has_no_profile(api):
    r = api.get("/me", user="admin")
    assert r.status_code == 403 and r.json["error"]["code"] == "no_nip"
