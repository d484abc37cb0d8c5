"""Powertools Logger and Metrics, shared by every module (never log images, templates, tokens)."""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="hadir")
metrics = Metrics(namespace="Hadir", service="hadir")


def flush_metrics() -> None:
    """Emit the EMF blob for what this invocation recorded (API routes have no Lambda decorator)."""
    try:
        if metrics.metric_set:
            metrics.flush_metrics()
    except Exception:  # noqa: BLE001 - metrics must never break a request
        logger.warning("metrics flush failed")
