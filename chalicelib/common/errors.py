"""The service's error taxonomy. Every error a user can see is a HadirError of one kind.

A kind says what went wrong in terms any client understands (invalid input, not found, conflict,
...); ``code`` says exactly what, machine-readably; ``details`` carries the numbers. Pure Python (no
AWS imports) so the domain packages raise these too. Which HTTP status a kind becomes is decided in
one place, ``chalicelib.common.http``; nothing else names a status.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

# A JSON value as it appears in details, reasons and records.
Json = Any
JsonObject = dict[str, Json]


def problem(field: str, code: str, **extra: Json) -> JsonObject:
    """One entry of ``details.problems``: the field, what is wrong with it, and its numbers."""
    return {"field": field, "code": code, **extra}


class Kind(StrEnum):
    MALFORMED = "malformed"  # the request cannot be read at all (not JSON, not an object)
    INVALID = "invalid_input"  # readable, but a field breaks a rule
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # the current state does not allow it (already used, changed meanwhile)
    GONE = "gone"  # it existed and has expired
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"  # a media type the service does not take
    METHOD_NOT_ALLOWED = "method_not_allowed"  # the path exists, not with this method
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    UNAVAILABLE = "unavailable"  # a dependency is down; retry later
    INTERNAL = "internal"  # misconfiguration or a broken invariant; never the caller's fault


class HadirError(Exception):
    """An error with a ``kind``, a machine-readable ``code``, a human ``message`` and ``details``."""

    kind: ClassVar[Kind] = Kind.INVALID
    code: str = "invalid_input"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: JsonObject | None = None, kind: Kind | None = None):
        text = message or (self.__class__.__doc__ or self.code).strip()
        super().__init__(text)
        if code is not None:
            self.code = code
        if kind is not None:
            self.kind = kind  # type: ignore[misc]  (an instance may narrow its class's kind)
        self.message = text
        self.details: JsonObject = details or {}

    def to_dict(self) -> JsonObject:
        return {"code": self.code, "message": self.message, "details": self.details}


class Malformed(HadirError):
    """The request cannot be read."""

    kind = Kind.MALFORMED
    code = "bad_request"


class InvalidInput(HadirError):
    """The request breaks a rule."""

    kind = Kind.INVALID
    code = "invalid_input"


class Unauthenticated(HadirError):
    """Authentication failed."""

    kind = Kind.UNAUTHENTICATED
    code = "unauthorized"


class Forbidden(HadirError):
    """The caller's roles do not allow this."""

    kind = Kind.FORBIDDEN
    code = "forbidden"


class NotFound(HadirError):
    """No such thing."""

    kind = Kind.NOT_FOUND
    code = "not_found"


class Conflict(HadirError):
    """The current state does not allow this."""

    kind = Kind.CONFLICT
    code = "conflict"


class Gone(HadirError):
    """It has expired."""

    kind = Kind.GONE
    code = "gone"


class TooLarge(HadirError):
    """The request is too large."""

    kind = Kind.TOO_LARGE
    code = "too_large"


class Unsupported(HadirError):
    """A media type the service does not take."""

    kind = Kind.UNSUPPORTED
    code = "unsupported"


class TooManyAttempts(HadirError):
    """Too many failed attempts; retry later."""

    kind = Kind.TOO_MANY_ATTEMPTS
    code = "too_many_attempts"


class Unavailable(HadirError):
    """A service Hadir depends on is unavailable; retry later."""

    kind = Kind.UNAVAILABLE
    code = "unavailable"


class Internal(HadirError):
    """An internal error occurred."""

    kind = Kind.INTERNAL
    code = "internal_error"
