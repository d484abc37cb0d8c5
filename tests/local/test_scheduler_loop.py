"""The local stack's scheduler loop (local/stack.py) keeps to the real clock."""
from __future__ import annotations

import argparse
import threading
import time

from chalicelib.common.settings import reset_settings
from local.stack import Stack


def test_a_job_run_at_another_instant_does_not_replay_past_cron_times(monkeypatch):
    """Given a running scheduler (real time), when a job runs through the control endpoint at
    another instant (HADIR_NOW swapped in, then restored), then no scheduled job fires."""
    stack = Stack(argparse.Namespace(now=None, tick=0.01))
    ran: list[str] = []
    monkeypatch.setattr(stack, "run_job", lambda handler, now=None: ran.append(handler))
    monkeypatch.setattr(stack, "drain", lambda: 0)
    monkeypatch.delenv("HADIR_NOW", raising=False)
    reset_settings()
    loop = threading.Thread(target=stack.scheduler_loop, daemon=True)
    loop.start()
    try:
        time.sleep(0.1)
        monkeypatch.setenv("HADIR_NOW", "2026-01-05T00:00:00+07:00")  # what run_job(now=...) does
        reset_settings()
        time.sleep(0.1)
        monkeypatch.delenv("HADIR_NOW")
        reset_settings()
        time.sleep(0.1)
    finally:
        stack.stop.set()
        loop.join(5)
        reset_settings()
    assert ran == []
