"""Powertools Logger and Metrics, shared by every module (never log images, templates, tokens)."""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="hadir")
metrics = Metrics(namespace="Hadir", service="hadir")
