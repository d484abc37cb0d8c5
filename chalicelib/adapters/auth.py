"""Login through Cognito and verification of its ID tokens in the application.

API Gateway's Cognito authorizer is not relied upon (``chalice local`` verifies nothing), so every
route checks the token here: RS256 signature against the JWKS URL from the settings, issuer,
audience (the app client id), expiry, ``token_use == "id"`` and the agency claim
(``custom:agency_id == settings.agency_id``). Roles are Cognito groups.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable

import jwt
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters import aws
from chalicelib.adapters.aws import aws_failure
from chalicelib.common.errors import (
    Forbidden,
    Internal,
    InvalidInput,
    Unauthenticated,
    Unavailable,
)
from chalicelib.common.settings import Settings

ROLES = ("employee", "supervisor", "admin", "auditor")
AGENCY_CLAIM = "custom:agency_id"  # must equal settings.agency_id


@dataclass(frozen=True)
class Principal:
    sub: str
    username: str
    nip: str | None
    groups: frozenset[str]

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.groups & set(roles))


@lru_cache(maxsize=8)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)


def prefetch_keys_in_background(s: Settings) -> threading.Thread | None:
    """Fetch the user pool's key set on a daemon thread, so a cold container's first request
    finds it cached instead of waiting for the round trip to Cognito (the wait is off the GIL:
    it overlaps the import). A failure is ignored here: that request fetches the keys itself
    and answers ``jwks_unavailable`` if it cannot."""
    if not s.jwks_url:
        return None
    client = _jwks_client(s.jwks_url)

    def fetch() -> None:
        try:
            client.get_signing_keys()
        except Exception:  # noqa: BLE001 - the first request meets it again, and answers it
            pass
    thread = threading.Thread(target=fetch, name="jwks-prefetch", daemon=True)
    thread.start()
    return thread


def verify_id_token(token: str, s: Settings) -> Principal:
    """The caller of a Cognito ID token of this deployment's user pool (issuer) and app client
    (audience) for this agency (``custom:agency_id``, set by ``upsert_user``)."""
    if not s.jwks_url or not s.user_pool_client_id or not s.jwt_issuer:
        raise Internal("Token verification is not configured", code="auth_not_configured")
    try:
        key = _jwks_client(s.jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token, key.key, algorithms=["RS256"], audience=s.user_pool_client_id, issuer=s.jwt_issuer,
            options={"require": ["exp", "iss", "aud", "sub", "token_use"]}, leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The token has expired", code="token_expired") from exc
    except jwt.PyJWKClientConnectionError as exc:
        raise Unavailable("The key set could not be fetched", code="jwks_unavailable") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("The token is invalid", code="invalid_token",
                              details={"reason": token_problem(exc)}) from exc
    if claims.get("token_use") != "id":
        raise Unauthenticated("An ID token is required", code="invalid_token", details={"reason": "token_use"})
    if claims.get(AGENCY_CLAIM) != s.agency_id:  # a user of this pool imported for another agency
        raise Unauthenticated("The token is not for this agency", code="wrong_agency",
                              details={"reason": "missing" if AGENCY_CLAIM not in claims else "other_agency"})
    groups = claims.get("cognito:groups") or []
    return Principal(sub=claims["sub"], username=claims.get("cognito:username", claims["sub"]),
                     nip=claims.get("custom:nip") or None, groups=frozenset(groups))


# PyJWT's exceptions as Hadir's reasons (subclasses first: InvalidSignatureError is a DecodeError)
_TOKEN_PROBLEMS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.InvalidSignatureError, "bad_signature"), (jwt.DecodeError, "malformed"),
    (jwt.InvalidAudienceError, "wrong_audience"), (jwt.InvalidIssuerError, "wrong_issuer"),
    (jwt.MissingRequiredClaimError, "missing_claim"), (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidAlgorithmError, "bad_algorithm"), (jwt.PyJWKClientError, "unknown_key"),
)


def token_problem(exc: Exception) -> str:
    """Why a token was refused, in Hadir's words (never PyJWT's class names)."""
    return next((reason for cls, reason in _TOKEN_PROBLEMS if isinstance(exc, cls)), "invalid")


MAX_TOKEN_CHARS = 8192  # a Cognito id token is ~1-2 KB


def principal_from_headers(headers: Any, roles: Iterable[str] | None, settings: Settings) -> Principal:
    """Verify ``Authorization: Bearer <id_token>`` and, if given, that the caller has one of ``roles``."""
    auth = (headers or {}).get("authorization") or ""
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("A bearer token is required", code="missing_token")
    if len(token) > MAX_TOKEN_CHARS or not token.isascii():  # never handed to the JWT decoder
        raise Unauthenticated("The token is invalid", code="invalid_token",
                              details={"reason": "oversized_or_not_ascii", "max_chars": MAX_TOKEN_CHARS})
    principal = verify_id_token(token.strip(), settings)
    if roles is not None and not principal.has_any(roles):
        raise Forbidden("This action needs one of the roles " + ", ".join(roles),
                        details={"required_any": list(roles), "groups": sorted(principal.groups)})
    return principal


class CognitoDirectory:
    """Directory over a Cognito user pool: USER_PASSWORD_AUTH sign-in through the app client, and
    the admin calls an import makes. ``idp_provider`` returns the boto3 ``cognito-idp`` client."""

    def __init__(self, idp_provider: Callable[[], Any], user_pool_id: str, client_id: str,
                 agency_id: str):
        self._cognito_idp = idp_provider
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self.agency_id = agency_id

    def login(self, username: str, password: str) -> dict[str, Any]:
        """The three tokens; Unauthenticated ``invalid_credentials``, ``user_not_confirmed``,
        ``password_reset_required`` or ``challenge_required``."""
        try:
            out = self._cognito_idp().initiate_auth(
                ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password})
        except ClientError as exc:
            code = aws.error_code(exc)
            if code in _LOGIN_ERRORS:
                raise Unauthenticated(_LOGIN_ERRORS[code][1], code=_LOGIN_ERRORS[code][0]) from exc
            raise aws_failure(exc, "Sign-in is not possible right now", "directory_failure") from exc
        except BotoCoreError as exc:
            raise aws_failure(exc, "Sign-in is not possible right now", "directory_failure") from exc
        if "AuthenticationResult" not in out:
            raise Unauthenticated("A further challenge is required", code="challenge_required",
                                  details={"challenge": str(out.get("ChallengeName") or "").lower()})
        return _tokens(out["AuthenticationResult"])

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """New ID and access tokens for a refresh token (REFRESH_TOKEN_AUTH: no password, and
        under the same Cognito quota as a sign-in, so apps refresh off-peak: docs/capacity.md);
        Unauthenticated ``invalid_refresh_token`` when it is unknown, expired or revoked."""
        try:
            out = self._cognito_idp().initiate_auth(
                ClientId=self.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token})
        except ClientError as exc:
            if aws.error_code(exc) in ("NotAuthorizedException", "UserNotFoundException"):
                raise Unauthenticated("The refresh token is invalid, expired or revoked; sign in again",
                                      code="invalid_refresh_token") from exc
            raise aws_failure(exc, "Tokens cannot be refreshed right now", "directory_failure") from exc
        except BotoCoreError as exc:
            raise aws_failure(exc, "Tokens cannot be refreshed right now", "directory_failure") from exc
        return _tokens(out["AuthenticationResult"])

    def upsert_user(self, username: str, password: str | None, *, nip: str | None, name: str,
                    groups: Iterable[str]) -> None:
        """Create or update a user so its role groups are exactly ``groups``.

        A new user without ``password`` gets an unusable random one (until an admin resets it); an
        existing user keeps theirs unless a new one is given, so re-importing the personnel list
        never locks anyone out. Role groups not in ``groups`` are removed: a demotion takes effect
        at the next login. InvalidInput ``invalid_user`` / ``invalid_password`` / ``unknown_group``.
        """
        try:
            created = self._create_or_update(username, nip, name)
            if password or created:
                self._set_password(username, password or secrets.token_urlsafe(12) + "a1A!")
            self._sync_groups(username, set(groups), created)
        except (ClientError, BotoCoreError) as exc:
            raise aws_failure(exc, "The user could not be saved", "directory_failure") from exc

    def _create_or_update(self, username: str, nip: str | None, name: str) -> bool:
        """True if the user was created, False if it existed (its attributes are updated)."""
        attrs = [{"Name": "name", "Value": name}, {"Name": AGENCY_CLAIM, "Value": self.agency_id}]
        if nip:
            attrs.append({"Name": "custom:nip", "Value": nip})
        try:
            self._cognito_idp().admin_create_user(
                UserPoolId=self.user_pool_id, Username=username, UserAttributes=attrs,
                MessageAction="SUPPRESS")
            return True
        except ClientError as exc:
            if aws.error_code(exc) == "InvalidParameterException":  # Cognito's message stays server-side
                aws.log_aws_failure(exc, "invalid_user")
                raise InvalidInput("The user could not be created", code="invalid_user") from exc
            if aws.error_code(exc) != "UsernameExistsException":
                raise
        self._cognito_idp().admin_update_user_attributes(
            UserPoolId=self.user_pool_id, Username=username, UserAttributes=attrs)
        return False

    def _set_password(self, username: str, password: str) -> None:
        try:
            self._cognito_idp().admin_set_user_password(
                UserPoolId=self.user_pool_id, Username=username, Password=password, Permanent=True)
        except ClientError as exc:
            if aws.error_code(exc) == "InvalidPasswordException":
                raise InvalidInput("The password does not meet the policy",
                                   code="invalid_password") from exc
            raise

    def _sync_groups(self, username: str, wanted: set[str], created: bool) -> None:
        """Add the missing groups, remove the role groups no longer wanted."""
        current: set[str] = set()
        if not created:
            pages = self._cognito_idp().get_paginator("admin_list_groups_for_user").paginate(
                UserPoolId=self.user_pool_id, Username=username)
            current = {g["GroupName"] for page in pages for g in page.get("Groups", [])}
        for g in sorted(wanted - current):
            try:
                self._cognito_idp().admin_add_user_to_group(
                    UserPoolId=self.user_pool_id, Username=username, GroupName=g)
            except ClientError as exc:
                if aws.error_code(exc) == "ResourceNotFoundException":
                    raise InvalidInput("No such role group", code="unknown_group",
                                       details={"group": g}) from exc
                raise
        for g in sorted((current & set(ROLES)) - wanted):
            self._cognito_idp().admin_remove_user_from_group(
                UserPoolId=self.user_pool_id, Username=username, GroupName=g)


def _tokens(res: dict[str, Any]) -> dict[str, Any]:
    """Cognito's AuthenticationResult as Hadir's tokens (a refresh returns no new refresh token
    unless the client rotates them: the app keeps the one it has)."""
    return {"id_token": res["IdToken"], "access_token": res["AccessToken"],
            "refresh_token": res.get("RefreshToken"), "expires_in": res["ExpiresIn"]}


_LOGIN_ERRORS = {  # Cognito error -> (code, message)
    "NotAuthorizedException": ("invalid_credentials", "Wrong username or password"),
    "UserNotFoundException": ("invalid_credentials", "Wrong username or password"),
    "UserNotConfirmedException": ("user_not_confirmed", "The account is not confirmed"),
    "PasswordResetRequiredException": ("password_reset_required", "A password reset is required"),
}
