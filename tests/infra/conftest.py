"""Fixtures for the infrastructure tests: one `cdk synth` (the pinned CLI) per test session."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
APP_DIR = pathlib.Path(os.environ.get("HADIR_APP_DIR", ROOT))  # the Chalice project synthesized
if str(INFRA) not in sys.path:
    sys.path.insert(0, str(INFRA))  # hadir_infra (the stack's helpers) for the unit tests
STACK = "hadir-pemkab-test-prod"  # hadir-<agency_id>-<stage>
ACCOUNT, REGION = "123456789012", "ap-southeast-3"
CONTEXT = {
    "stage": "prod", "account": ACCOUNT, "region": REGION, "agency_id": "pemkab-test",
    "ses_sender": "hadir@pemkab-test.go.id", "alarm_email": "ops@pemkab-test.go.id",
    "personnel_email": "bkpsdm@pemkab-test.go.id",
    "raw_image_expiry_days": "2", "export_retention_days": "1825", "attachment_expiry_days": "500",
    "export_retention_mode": "COMPLIANCE",
    "web_dir": str(ROOT / "no-web-app-here"),  # the web app's files are deployed by another synth
}
WEB_TILES = "https://tiles.pemkab-test.go.id"
# A second agency in the same account, with the WAF on: its stack next to the first one's
OTHER = {"agency_id": "kota-lain", "waf": "true", "waf_rate_limit": "1500"}
OTHER_STACK = "hadir-kota-lain-prod"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: builds or runs the Lambda package (minutes)")
    config.addinivalue_line("markers", "infra: synthesizes and checks the CDK app (needs node)")


def clean_env() -> dict[str, str]:
    """The environment without the application's own settings (the root conftest sets them)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HADIR_", "AWS_ENDPOINT_URL", "POWERTOOLS_"))}
    env.update(HADIR_APP_DIR=str(APP_DIR), AWS_DEFAULT_REGION=REGION, JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1",
               CDK_DISABLE_VERSION_CHECK="1")
    return env


def ensure_cdk_cli() -> str:
    """The CLI pinned in infra/package.json, installed by infra/install.sh when missing."""
    if not shutil.which("npm") or not shutil.which("node"):
        pytest.skip("node/npm not installed: cannot run the AWS CDK CLI (apt-get install nodejs npm)")
    cli = INFRA / "node_modules" / ".bin" / "cdk"
    if not cli.exists():
        subprocess.run(["bash", str(INFRA / "install.sh"), "--node-only"], check=True,
                       timeout=600)
    return str(cli)


def stub_lambda_zip(dest: pathlib.Path) -> pathlib.Path:
    """The app source only: synthesis needs a zip to hash, not the dependencies."""
    path = dest / "stub-lambda.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(APP_DIR / "app.py", "app.py")
        if (APP_DIR / "analytics.py").exists():  # the analytics function's entry point
            zf.write(APP_DIR / "analytics.py", "analytics.py")
        for f in sorted((APP_DIR / "chalicelib").rglob("*.py")):
            zf.write(f, str(f.relative_to(APP_DIR)))
    return path


@contextlib.contextmanager
def built_once(tmp_path_factory, name: str):
    """A directory shared by every pytest-xdist worker of this run, built by the first one.

    Yields (path, needs_building); the caller builds into path when needs_building and the marker
    is written on success, so the other workers wait for it and reuse it.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by the workers of this session
    path = root / f"shared-{name}"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = path / ".built"
        if done.exists():
            yield path, False
            return
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        yield path, True
        done.touch()


@pytest.fixture(scope="session")
def cdk_out(tmp_path_factory) -> pathlib.Path:
    """`cdk synth` of the prod stage with the pinned CLI, offline (dummy account, no lookups)."""
    if not (APP_DIR / "app.py").exists():
        pytest.skip("app.py not written yet: nothing to synthesize")
    with built_once(tmp_path_factory, "cdk") as (work, build):
        out = work / "cdk.out"
        if build:
            synth(work, out)
    return out


def synth(work: pathlib.Path, out: pathlib.Path, extra: dict[str, str] | None = None) -> None:
    cli = ensure_cdk_cli()
    cmd = [cli, "synth", "--no-notices", "--quiet", "--no-version-reporting",
           "--app", f"{sys.executable} cdk_app.py", "--output", str(out),
           "-c", f"lambda_zip={stub_lambda_zip(work)}", "-c", f"analytics_zip={stub_lambda_zip(work)}"]
    for key, value in {**CONTEXT, **(extra or {})}.items():
        cmd += ["-c", f"{key}={value}"]
    proc = subprocess.run(cmd, cwd=INFRA, env=clean_env(), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"cdk synth failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="session")
def web_template_json(tmp_path_factory) -> dict:
    """The prod stage synthesized with a web app to deploy (a stand-in web/ with an index.html)
    and a map tile server: the BucketDeployment and the CSP's tile source."""
    if not (APP_DIR / "app.py").exists():
        pytest.skip("app.py not written yet: nothing to synthesize")
    with built_once(tmp_path_factory, "cdk-web") as (work, build):
        out = work / "cdk.out"
        if build:
            web = work / "web"
            web.mkdir()
            (web / "index.html").write_text("<!doctype html><title>Hadir</title>\n")
            (web / "app.js").write_text("export {};\n")
            synth(work, out, {"web_dir": str(web), "map_tile_origins": WEB_TILES})
    return json.loads((out / f"{STACK}.template.json").read_text())


@pytest.fixture(scope="session")
def other_agency_template_json(tmp_path_factory) -> dict:
    """Another agency's prod stage (same account and region) with the WAF flag on."""
    if not (APP_DIR / "app.py").exists():
        pytest.skip("app.py not written yet: nothing to synthesize")
    with built_once(tmp_path_factory, "cdk-other") as (work, build):
        out = work / "cdk.out"
        if build:
            synth(work, out, OTHER)
    return json.loads((out / f"{OTHER_STACK}.template.json").read_text())


@pytest.fixture(scope="session")
def template_path(cdk_out) -> pathlib.Path:
    return cdk_out / f"{STACK}.template.json"


@pytest.fixture(scope="session")
def template_json(template_path) -> dict:
    return json.loads(template_path.read_text())


@pytest.fixture(scope="session")
def template(template_json):
    from aws_cdk.assertions import Template
    return Template.from_json(template_json)
