"""The analytics function's entry point (handler ``analytics.handler``; its own package,
requirements-analytics.txt, with pyarrow and without the face engine): the monthly recap and the
daily export, invoked by the API and the scheduled export functions (chalicelib/adapters/analytics.py)."""
from __future__ import annotations

from chalicelib.adapters import analytics
from chalicelib.common.logs import failures_scrubbed, flush_metrics
from chalicelib.wiring import get_services

FUNCTION = "analytics"


def handler(event, context):
    """``{"job": "recap" | "export", ...}`` -> ``{"result"}`` | ``{"error"}``."""
    try:
        with failures_scrubbed(FUNCTION):
            return analytics.handle(get_services(), event)
    finally:
        flush_metrics()
