"""Shared fixtures: the app against moto's in-process mock (``mock_aws``) with every resource from
chalicelib/common/resources.py, the seeded demo world, and a thin HTTP-ish API helper.

Environment is set before the app is imported (PynamoDB and settings read it); the ``test`` stage
has no AWS_ENDPOINT_URL, so ``mock_aws`` intercepts every call.
"""
from __future__ import annotations

import gzip
import json
import os
import pathlib
from typing import Any

import boto3
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FACES_DEV = pathlib.Path(os.environ.get("HADIR_FACES_DIR", ROOT.parent / "shared" / "faces" / "dev"))


def _test_stage_env() -> dict[str, str]:
    cfg = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**cfg.get("environment_variables", {}), **cfg["stages"]["test"]["environment_variables"]}


class MotoKeySet:
    """moto signs with a fixed key; its public JWKS served over real HTTP on a free loopback port
    (PyJWKClient fetches http(s) only), as moto's server does at {endpoint}/{pool}/.well-known,
    counting the fetches."""

    def __init__(self, path: str = "/.well-known/jwks.json"):
        import http.server
        import threading

        import moto.cognitoidp as c
        body = gzip.decompress((pathlib.Path(c.__file__).parent / "resources" / "jwks-public.json.gz")
                               .read_bytes())
        self.fetches = 0
        keys = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                keys.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"


os.environ.update(_test_stage_env())
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ["HADIR_JWKS_URL"] = MotoKeySet().url
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("HADIR_NOW", None)
# Enrolments wait for a supervisor's approval by default; most tests check in right after enrolling,
# so they run without it and the approval tests (tests/api/test_reviews.py, the e2e) turn it on.
os.environ["HADIR_ENROLMENT_APPROVAL"] = "false"

from moto import mock_aws  # noqa: E402

from chalicelib.common import logs  # noqa: E402

pytest_plugins = ["tests.logscan"]  # fails a test that logs a NIP, a token, image data, an embedding
TEST_LOG_KEY = "hadir-test-log-key"  # NIPs in logs are pseudonymised under this fixed key
logs.use_key_source(lambda: TEST_LOG_KEY.encode(), "tests")

from tests.fakes import FakeEngine  # noqa: E402


class Api:
    """Drives the app through chalice.test.Client like the mobile app would."""

    def __init__(self, client: Any, password: str):
        self.client = client
        self.password = password
        self._tokens: dict[str, str] = {}

    def call(self, method: str, path: str, body: Any = None, *, user: str | None = None,
             token: str | None = None, headers: dict[str, str] | None = None, raw: bytes | None = None,
             content_type: str = "application/json"):
        h = {"Content-Type": content_type, **(headers or {})}
        if user:
            token = self.token(user)
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        resp = getattr(self.client.http, method.lower())(path, headers=h, body=data)
        resp.json = json.loads(resp.body) if resp.body else None
        return resp

    def post(self, path: str, body: Any = None, **kw):
        return self.call("POST", path, body, **kw)

    def get(self, path: str, **kw):
        return self.call("GET", path, **kw)

    def put(self, path: str, body: Any = None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw):
        return self.call("DELETE", path, **kw)

    def token(self, username: str) -> str:
        if username not in self._tokens:
            r = self.post("/auth/login", {"username": username, "password": self.password})
            assert r.status_code == 200, r.json
            self._tokens[username] = r.json["id_token"]
        return self._tokens[username]

    @staticmethod
    def upload(target: dict[str, Any], data: bytes, content_type: str = "image/png") -> int:
        import requests
        fields = {**target["fields"], "Content-Type": content_type}
        r = requests.post(target["url"], data=fields, files={"file": ("photo", data, content_type)},
                          timeout=10)
        return r.status_code


_clients: dict[str, Any] = {}


def _boto_client(service: str) -> Any:
    """Clients are reused across tests (creating one costs ~40 ms); mock_aws intercepts them all."""
    if service not in _clients:
        _clients[service] = boto3.client(service, region_name=os.environ["AWS_DEFAULT_REGION"])
    return _clients[service]


@pytest.fixture
def aws_env():
    """Every resource from resources.py in moto's in-process mock, and the app rewired to it."""
    from chalicelib import wiring
    from chalicelib.common.settings import reset_settings
    from local.bootstrap import create_all

    with mock_aws():
        env = create_all(_boto_client, "test", log_key=TEST_LOG_KEY)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        reset_settings()
        wiring.configure(face_engine_provider=FakeEngine)
        try:
            yield env
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            reset_settings(); wiring.reset()


@pytest.fixture
def world(aws_env):
    """The seeded demo agency (offices in WIB/WITA/WIT, admin, auditor, supervisors, staff)."""
    from chalicelib.wiring import get_services
    from local.seed import seed
    return seed(get_services())


@pytest.fixture
def api(world):
    from chalice.test import Client

    import app as app_module
    from local.seed import PASSWORD
    with Client(app_module.app, stage_name="test", project_dir=str(ROOT)) as client:
        yield Api(client, PASSWORD)


@pytest.fixture
def set_now():
    """Freeze the injected clock at an instant for the rest of the test; returns the clock
    (``clock.advance(minutes=10)`` moves it on)."""
    from datetime import datetime

    from chalicelib import wiring
    from chalicelib.common.clock import FixedClock

    def _set(iso: str) -> FixedClock:
        clock = FixedClock(datetime.fromisoformat(iso))
        wiring.configure(**{**wiring._overrides, "clock": clock})
        return clock

    return _set


@pytest.fixture
def setting(monkeypatch):
    """Change one environment setting and rebuild the settings and the wiring with it."""
    from chalicelib import wiring
    from chalicelib.common.settings import reset_settings

    def _set(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        reset_settings()
        wiring.configure(**wiring._overrides)

    yield _set
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
def real_engine():
    """The real ONNX face engine, for the tests that use real faces."""
    if not FACES_DEV.is_dir():
        pytest.skip(f"real face photos not available at {FACES_DEV}")
    from chalicelib import wiring
    try:
        from chalicelib.face import get_engine
        engine = get_engine()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"face engine not loadable: {exc}")
    wiring.configure(**{**wiring._overrides, "face_engine_provider": lambda: engine})
    return engine
