"""The API function's warm-up on background threads (HADIR_WARM_UP, app.py): the face models'
sessions built, and the user pool's key set fetched (tests/api/test_jwks_prefetch.py)."""
import os
import subprocess
import sys
from pathlib import Path

from chalicelib.face import models

ROOT = Path(__file__).resolve().parents[2]
CHECK = """
import threading
import app
from chalicelib.adapters import auth
from chalicelib.common.settings import get_settings
from chalicelib.face import models, warm
for t in threading.enumerate():
    if t.name in ("face-warm-up", "jwks-prefetch"):
        t.join(120)
keys = auth._jwks_client.cache_info().currsize and auth._jwks_client(get_settings().jwks_url).jwk_set_cache.get()
print(sorted(p.rsplit("/", 1)[-1] for p, _ in models._sessions), warm.failure, "keys" if keys else "no keys")
"""


def _import_app(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HADIR_WARM_UP", "HADIR_NOW"))}
    out = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=180,
                         env={**clean, "HADIR_STAGE": "test", **env})
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def test_importing_the_app_with_the_setting_builds_every_session_and_fetches_the_keys():
    # Given HADIR_WARM_UP=true (the API function's), When app.py is imported and its threads end
    # Then every model a check-in runs has its session, nothing failed, and the key set is cached
    assert _import_app(HADIR_WARM_UP="true") == str(sorted(
        f"{n}.onnx" for n in ["blazeface-back", "blazeface-front", "dlib-resnet", "faceres", "facemesh"])) \
        + " None keys"


def test_without_the_setting_importing_the_app_builds_no_session_and_fetches_nothing():
    # Given the default (tests, the jobs' functions), When app.py is imported
    # Then no model is loaded and no key set fetched
    assert _import_app() == "[] None no keys"


def test_a_warm_up_that_fails_is_kept_for_the_first_check_in_not_raised(tmp_path):
    # Given an engine whose models directory is empty
    from chalicelib.face import warm
    from chalicelib.face.config import FaceConfig
    before = dict(models._sessions)
    warm._thread, warm.failure = None, None
    try:
        from chalicelib.face import engine
        saved, engine._engine = engine._engine, engine.FaceEngine(FaceConfig(), models_dir=tmp_path)
        # When the warm-up runs, Then the thread ends with the failure kept, no session built
        warm.in_background(FaceConfig()).join(60)
        assert isinstance(warm.failure, Exception) and models._sessions == before
    finally:
        engine._engine, warm._thread, warm.failure = saved, None, None
