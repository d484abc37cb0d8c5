"""The service's own error type. Every error a user can see is a HadirError.

Pure Python (no AWS imports) so the domain packages can raise it; the single mapping to
HTTP lives in ``chalicelib.common.http``.
"""
from __future__ import annotations

from typing import Any


class HadirError(Exception):
    """An error with a machine-readable ``code``, a human ``message`` and ``details`` as data."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: dict[str, Any] | None = None, status: int | None = None):
        super().__init__(message or self.__class__.__doc__ or self.code)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}
