"""Login through Cognito and verification of its ID tokens in the application.

API Gateway's Cognito authorizer is not relied upon (``chalice local`` verifies nothing), so every
route checks the token here: RS256 signature against the JWKS URL from the settings, issuer,
audience (the app client id), expiry and ``token_use == "id"``. Roles are Cognito groups.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

import jwt
from botocore.exceptions import ClientError

from chalicelib.adapters import aws
from chalicelib.common.errors import Forbidden, Internal, InvalidInput, Unauthenticated, Unavailable
from chalicelib.common.settings import Settings, get_settings

ROLES = ("employee", "supervisor", "admin", "auditor")


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


def verify_id_token(token: str, settings: Settings | None = None) -> Principal:
    s = settings or get_settings()
    if not s.jwks_url or not s.user_pool_client_id:
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
                        details={"reason": type(exc).__name__}) from exc
    if claims.get("token_use") != "id":
        raise Unauthenticated("An ID token is required", code="invalid_token", details={"reason": "token_use"})
    groups = claims.get("cognito:groups") or []
    return Principal(sub=claims["sub"], username=claims.get("cognito:username", claims["sub"]),
                     nip=claims.get("custom:nip") or None, groups=frozenset(groups))


def principal_from_headers(headers: Any, roles: Iterable[str] | None = None) -> Principal:
    """Verify ``Authorization: Bearer <id_token>`` and, if given, that the caller has one of ``roles``."""
    auth = (headers or {}).get("authorization") or ""
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("A bearer token is required", code="missing_token")
    principal = verify_id_token(token.strip())
    if roles is not None and not principal.has_any(roles):
        raise Forbidden("This action needs one of the roles " + ", ".join(roles),
                        details={"required_any": list(roles), "groups": sorted(principal.groups)})
    return principal


def login(username: str, password: str) -> dict[str, Any]:
    """USER_PASSWORD_AUTH against the user pool; returns the three tokens."""
    s = get_settings()
    try:
        out = aws.client("cognito-idp").initiate_auth(
            ClientId=s.user_pool_client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except ClientError as exc:
        code = aws.error_code(exc)
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            raise Unauthenticated("Wrong username or password", code="invalid_credentials") from exc
        if code == "UserNotConfirmedException":
            raise Unauthenticated("The account is not confirmed", code="user_not_confirmed") from exc
        if code == "PasswordResetRequiredException":
            raise Unauthenticated("A password reset is required", code="password_reset_required") from exc
        raise
    if "AuthenticationResult" not in out:
        raise Unauthenticated("A further challenge is required", code="challenge_required",
                        details={"challenge": out.get("ChallengeName")})
    res = out["AuthenticationResult"]
    return {"id_token": res["IdToken"], "access_token": res["AccessToken"],
            "refresh_token": res.get("RefreshToken"), "expires_in": res["ExpiresIn"]}


class Directory:
    """Cognito as the user directory: creating users with a permanent password and groups."""

    def create_user(self, username: str, password: str, *, nip: str | None, name: str,
                    groups: Iterable[str]) -> None:
        """Create or update a user so its role groups are exactly ``groups``.

        A new user without ``password`` gets an unusable random one (until an admin resets it); an
        existing user keeps theirs unless a new one is given, so re-importing the personnel list
        never locks anyone out. Role groups not in ``groups`` are removed: a demotion takes effect
        at the next login.
        """
        s = get_settings()
        idp = aws.client("cognito-idp")
        attrs = [{"Name": "name", "Value": name}, {"Name": "custom:agency_id", "Value": s.agency_id}]
        if nip:
            attrs.append({"Name": "custom:nip", "Value": nip})
        created = True
        try:
            idp.admin_create_user(UserPoolId=s.user_pool_id, Username=username, UserAttributes=attrs,
                                  MessageAction="SUPPRESS")
        except ClientError as exc:
            if aws.error_code(exc) == "UsernameExistsException":
                created = False
                idp.admin_update_user_attributes(UserPoolId=s.user_pool_id, Username=username,
                                                 UserAttributes=attrs)
            elif aws.error_code(exc) == "InvalidParameterException":
                raise InvalidInput("The user could not be created", code="invalid_user",
                                 details={"reason": exc.response["Error"].get("Message", "")}) from exc
            else:
                raise
        if password or created:
            try:
                idp.admin_set_user_password(UserPoolId=s.user_pool_id, Username=username,
                                            Password=password or secrets.token_urlsafe(12) + "a1A!",
                                            Permanent=True)
            except ClientError as exc:
                if aws.error_code(exc) == "InvalidPasswordException":
                    raise InvalidInput("The password does not meet the policy", code="invalid_password") from exc
                raise
        wanted = set(groups)
        current: set[str] = set()
        if not created:
            pages = idp.get_paginator("admin_list_groups_for_user").paginate(
                UserPoolId=s.user_pool_id, Username=username)
            current = {g["GroupName"] for page in pages for g in page.get("Groups", [])}
        for g in sorted(wanted - current):
            idp.admin_add_user_to_group(UserPoolId=s.user_pool_id, Username=username, GroupName=g)
        for g in sorted((current & set(ROLES)) - wanted):
            idp.admin_remove_user_from_group(UserPoolId=s.user_pool_id, Username=username, GroupName=g)
