"""Powertools Logger and Metrics, shared by every module (never log images, templates, tokens).

No raw NIP reaches a log line: the logger's formatter pseudonymises every NIP-looking value after
the record is built (message, extra fields, exception text and stack trace alike), so no code path
can log one. A NIP becomes ``p:<12 hex>``, the truncated HMAC-SHA256 of its digits under the log
key (Secrets Manager, read once per container through the key source the wiring installs), so the
same person is one pseudonym across lines and containers, and a NIP cannot be recovered from logs
without the key. Fields named like a NIP (``nip``, ``supervisor_nip``...) are renamed
``<name>_ref`` and pseudonymised whatever their value. Without a key source, or if the secret
cannot be read, a random per-container key is used (pseudonyms then link within one container
only); a raw NIP is never the fallback.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

NIP_FIELDS = frozenset({"nip", "supervisor_nip", "employee_nip", "nips", "subject"})
# 18 digits not part of a longer number, or printed grouped: 19850330 201001 1 001
NIP_PATTERN = re.compile(r"(?<!\d)(?:\d{18}|\d{8} \d{6} \d \d{3})(?!\d)")
REF_PREFIX = "p:"
REF_HEX = 12


class _Pseudonyms:
    """The log key, resolved once from the installed source; NIPs to references under it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._source: Callable[[], bytes] | None = None
        self._source_id: str | None = None
        self._key: bytes | None = None
        self.fallback = False  # True when the key is a random per-container one

    def use(self, source: Callable[[], bytes], source_id: str) -> None:
        """Read the key from ``source`` (when first needed); the same ``source_id`` again keeps
        the key already read (one GetSecretValue per container)."""
        with self._lock:
            if source_id != self._source_id:
                self._source, self._source_id, self._key = source, source_id, None

    def key(self) -> bytes:
        with self._lock:
            if self._key is None:
                self._key, self.fallback = self._resolve()
            return self._key

    def _resolve(self) -> tuple[bytes, bool]:
        if self._source is not None:
            try:
                key = self._source()
                if key:
                    return key, False
            except Exception:  # noqa: BLE001 - a log key must never break a request
                pass
        return os.urandom(32), True

    def ref(self, value: str) -> str:
        digits = "".join(str(value).split())
        mac = hmac.new(self.key(), digits.encode(), hashlib.sha256).hexdigest()
        return REF_PREFIX + mac[:REF_HEX]


pseudonyms = _Pseudonyms()


def use_key_source(source: Callable[[], bytes], source_id: str) -> None:
    """Install where the log key comes from (the wiring: Secrets Manager; tests: a fixed key)."""
    pseudonyms.use(source, source_id)


def nip_ref(nip: str) -> str:
    """The pseudonym of ``nip`` in logs (for a support engineer holding the key: the same value)."""
    return pseudonyms.ref(nip)


def scrub_text(text: str) -> str:
    """``text`` with every NIP-looking run replaced by its pseudonym."""
    return NIP_PATTERN.sub(lambda m: pseudonyms.ref(m.group(0)), text)


def _field_ref(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_field_ref(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    text = str(value)
    return scrub_text(text) if NIP_PATTERN.search(text) else pseudonyms.ref(text)


def scrub_fields(value: Any) -> Any:
    """Dicts (at any depth) with NIP-named fields renamed ``<name>_ref`` and pseudonymised."""
    if isinstance(value, dict):
        return {(f"{k}_ref" if k in NIP_FIELDS else k): (_field_ref(v) if k in NIP_FIELDS else scrub_fields(v))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_fields(v) for v in value]
    return value


class PseudonymisingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, pseudonymising NIPs in the finished line (whatever put them
    there: message, extra fields, objects turned into strings, exception text)."""

    def serialize(self, log: Any) -> str:
        return scrub_text(super().serialize(scrub_fields(log)))


class PseudonymisingFilter(logging.Filter):
    """For plain ``logging`` handlers (the Lambda runtime's root handler): the message and the
    exception text of each record pseudonymised before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub_text(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        return True


class ScrubbedFailure(Exception):
    """What an event handler raises instead of its failure, the message pseudonymised: the Lambda
    runtime prints an unhandled exception's message itself, outside logging."""


@contextmanager
def failures_scrubbed(what: str) -> Iterator[None]:
    """Log a failure inside (pseudonymised, with its traceback) and raise it on (so the event is
    still retried): unchanged if its message names no NIP, else as a ScrubbedFailure naming the
    pseudonyms (and nothing it was chained to)."""
    try:
        yield
    except Exception as exc:
        logger.exception(f"{what} failed")
        message = str(exc)
        if scrub_text(message) == message:
            raise
        raise ScrubbedFailure(f"{what} failed: {type(exc).__name__}: {scrub_text(message)}") from None


logger = Logger(service="hadir", logger_formatter=PseudonymisingFormatter())
metrics = Metrics(namespace="Hadir", service="hadir")
for _handler in logging.getLogger().handlers:  # the Lambda runtime's, present at import there
    _handler.addFilter(PseudonymisingFilter())


def flush_metrics() -> None:
    """Emit the EMF blob for what this invocation recorded (API routes have no Lambda decorator)."""
    try:
        if metrics.metric_set:
            metrics.flush_metrics()
    except Exception:  # noqa: BLE001 - metrics must never break a request
        logger.warning("metrics flush failed")
