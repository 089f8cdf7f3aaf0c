"""Errors of the public API beyond the shared ones (their codes map to statuses in problem.py)."""

from __future__ import annotations

from typing import Any

from tradeloom.shared.errors import ServiceError, ValidationFailed


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403


class RateLimited(ServiceError):
    code = "rate_limited"
    status = 429
    retryable = True

    def __init__(self, message: str, retry_after_s: int, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={"retry_after_s": retry_after_s, **(details or {})})
        self.retry_after_s = retry_after_s


class BadRequest(ServiceError):
    code = "bad_request"
    status = 400


def field_error(field: str, message: str, code: str = "validation_error") -> ValidationFailed:
    """A 422 naming one field, in the same shape as request validation errors."""
    return ValidationFailed(
        f"{field}: {message}", code=code, details={"fields": [{"field": field, "message": message}]}
    )
