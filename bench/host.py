"""The machine a benchmark ran on, as every RESULTS file quotes it."""
from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what the platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, object]:
    """``{"cpu", "cores", "python"}`` for a benchmark's JSON."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()}
