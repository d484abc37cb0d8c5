"""ID tokens from elsewhere: another user pool (its own key and issuer), or this pool's users of
another agency (``custom:agency_id``), or no agency at all, are refused with a 401."""
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.api.helpers import AYU
from tests.api.test_auth import _claims_of, _moto_private_key

OTHER_POOL = "https://cognito-idp.ap-southeast-3.amazonaws.com/ap-southeast-3_OtherPool"


def _signed(claims, key=None, kid="dummy"):
    return jwt.encode(claims, key or _moto_private_key(), algorithm="RS256", headers={"kid": kid})


def test_the_seeded_tokens_carry_this_agency(api):
    assert _claims_of(api, AYU)["custom:agency_id"] == "pemkab-demo"


@pytest.mark.parametrize("kid", ["dummy", "other-pool-key"])
def test_a_token_of_another_pool_signed_with_its_own_key_is_a_401(api, kid):
    # Given the claims of another pool's user, signed with that pool's key
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = _signed({**_claims_of(api, AYU), "iss": OTHER_POOL}, other_key, kid)
    # When / Then
    r = api.get("/me", token=token)
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_token"


def test_a_validly_signed_token_of_another_agency_is_a_401(api):
    # Given a token of this pool and app client, signed with its key, for another agency
    token = _signed({**_claims_of(api, AYU), "custom:agency_id": "pemkab-tetangga"})
    # When
    r = api.get("/me", token=token)
    # Then
    assert r.status_code == 401 and r.json["error"]["code"] == "wrong_agency"
    assert r.json["error"]["details"] == {"reason": "other_agency"}


def test_a_validly_signed_token_without_an_agency_is_a_401(api):
    claims = _claims_of(api, AYU)
    del claims["custom:agency_id"]
    r = api.get("/me", token=_signed(claims))
    assert r.status_code == 401 and r.json["error"]["code"] == "wrong_agency"
    assert r.json["error"]["details"] == {"reason": "missing"}


def test_an_admin_token_of_another_agency_cannot_act(api):
    token = _signed({**_claims_of(api, "admin"), "custom:agency_id": "pemkab-tetangga"})
    r = api.post("/admin/offices", {}, token=token)
    assert r.status_code == 401 and r.json["error"]["code"] == "wrong_agency"


def test_an_unconfigured_issuer_refuses_every_token(api, setting):
    from chalicelib.common.settings import get_settings
    token = api.token(AYU)
    setting("HADIR_USER_POOL_ID", "")
    assert get_settings().jwt_issuer == ""
    r = api.get("/me", token=token)
    assert r.status_code == 500 and r.json["error"]["code"] == "auth_not_configured"
