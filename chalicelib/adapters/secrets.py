"""The log key from AWS Secrets Manager (``secretsmanager:GetSecretValue``, once per container:
``common.logs`` caches what this returns)."""
from __future__ import annotations

from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.aws import error_code
from chalicelib.common.logs import logger


class SecretsLogKey:
    """A key source for ``logs.use_key_source``: the secret's string (or binary) value as bytes.
    A failure is logged (its AWS code, nothing else) and raised; the logger then falls back to a
    random per-container key."""

    def __init__(self, client_provider: Callable[[], Any], secret_id: str):
        self._secretsmanager = client_provider
        self.secret_id = secret_id

    def __call__(self) -> bytes:
        try:
            out = self._secretsmanager().get_secret_value(SecretId=self.secret_id)
        except (ClientError, BotoCoreError) as exc:
            logger.warning("log key unavailable: pseudonyms are per container",
                           extra={"aws_error": error_code(exc) or "connection"})
            raise
        value = out.get("SecretBinary") or out.get("SecretString", "")
        return value if isinstance(value, bytes) else value.encode()
