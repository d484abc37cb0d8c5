"""The user pool's key set fetched on a background thread while a cold API container imports
(``auth.prefetch_keys_in_background``, started by app.py with HADIR_WARM_UP): the first request
then verifies its token without a round trip to Cognito."""
import gzip
import json
import pathlib
import socket
import threading
import time

import jwt
import pytest

from chalicelib.adapters import auth
from chalicelib.common.errors import Unavailable
from chalicelib.common.settings import load_settings
from chalicelib.common import resources as r
from tests.conftest import MotoKeySet

POOL, CLIENT = "ap-southeast-3_Prefetch", "prefetch-client"


def _moto_key(name: str):
    import moto.cognitoidp as c
    return json.loads(gzip.decompress((pathlib.Path(c.__file__).parent / "resources" / name).read_bytes()))


def _settings(url: str):
    return load_settings({"HADIR_STAGE": "test", r.USER_POOL.pool_id_env: POOL,
                          r.USER_POOL.client_id_env: CLIENT, r.JWKS_URL_ENV: url})


def _token(s) -> str:
    private = _moto_key("jwks-private.json.gz")
    claims = {"sub": "u-1", "iss": s.jwt_issuer, "aud": CLIENT, "token_use": "id",
              "exp": int(time.time()) + 600, auth.AGENCY_CLAIM: s.agency_id, "custom:nip": "199001152015032001"}
    return jwt.encode(claims, jwt.PyJWK(private if "kty" in private else private["keys"][0]).key,
                      algorithm="RS256", headers={"kid": "dummy"})


@pytest.fixture
def key_set():
    ks = MotoKeySet(f"/{POOL}/.well-known/jwks.json")
    yield ks
    ks.server.shutdown()
    auth._jwks_client.cache_clear()


def test_the_prefetched_key_set_serves_the_first_request_without_another_fetch(key_set):
    # Given a cold container whose warm-up fetched the pool's key set
    s = _settings(key_set.url)
    auth.prefetch_keys_in_background(s).join(10)
    assert key_set.fetches == 1
    # When its first request's token is verified
    principal = auth.verify_id_token(_token(s), s)
    # Then it is the caller's, and Cognito was not asked again
    assert principal.nip == "199001152015032001" and key_set.fetches == 1


def test_a_prefetch_that_cannot_connect_ends_quietly_and_the_request_answers_it(key_set, monkeypatch):
    # Given a key set URL where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    s = _settings(f"http://127.0.0.1:{port}/{POOL}/.well-known/jwks.json")
    escaped = []
    monkeypatch.setattr(threading, "excepthook", escaped.append)
    # When the warm-up's fetch fails, Then its thread ends without an exception escaping
    thread = auth.prefetch_keys_in_background(s)
    thread.join(10)
    assert not thread.is_alive() and escaped == []
    # And the first request meets the failure itself: a retryable 503 code, not a 401
    with pytest.raises(Unavailable) as refused:
        auth.verify_id_token(_token(s), s)
    assert refused.value.code == "jwks_unavailable"


def test_without_a_key_set_url_nothing_is_started():
    # Given settings without a user pool (a job's function), When asked to prefetch, Then no thread
    assert auth.prefetch_keys_in_background(_settings("").model_copy(update={"jwks_url": ""})) is None
