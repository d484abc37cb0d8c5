"""The real local stack (``python -m local.stack``) as a subprocess on free ports, for the tests
that drive it over HTTP (tests/e2e) and in a browser (tests/browser)."""
from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from typing import Iterator

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOW = "2026-03-03T07:45:00+08:00"  # a Tuesday, 07:45 in Denpasar (WITA)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_stack(log_path: pathlib.Path, web: bool = False, now: str = NOW) -> Iterator[dict[str, str]]:
    """Start the stack (frozen at ``now``; the web app too when ``web``), wait until it answers,
    yield its URLs (``api``, ``control``, ``moto``, ``web``, ``log``); stop it as Ctrl-C does and
    fail if it does not stop or leaves a port open."""
    ports = {"moto": free_port(), "api": free_port(), "control": free_port(), **({"web": free_port()} if web else {})}
    cmd = [sys.executable, "-m", "local.stack", "--now", now, "--tick", "1",
           *(arg for name, port in ports.items() for arg in (f"--{name}-port", str(port)))]
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1",
                                     # the posed real photos answer left and right (tests/faces.py)
                                     "HADIR_LIVENESS_DIRECTIONS": "left,right",
                                     "HADIR_ENROLMENT_APPROVAL": "true"})  # the default (tests/conftest turns it off)
        _wait_until_up(proc, urls, log_path)
        yield {**urls, "log": str(log_path)}
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the stack did not stop on SIGINT")
    # Ctrl-C stopped every process it started: nothing listens on its ports any more
    for port in ports.values():
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open after Ctrl-C"


def _wait_until_up(proc: subprocess.Popen, urls: dict[str, str], log_path: pathlib.Path) -> None:
    deadline = time.time() + 90
    while time.time() < deadline:
        assert proc.poll() is None, log_path.read_text()[-3000:]
        try:
            requests.get(f"{urls['control']}/env", timeout=1)
            if "web" not in urls or requests.get(f"{urls['web']}/", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    pytest.fail("the local stack did not start: " + log_path.read_text()[-3000:])
