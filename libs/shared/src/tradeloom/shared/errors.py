"""Errors that cross service boundaries as the reply error envelope of DESIGN section 2."""

from __future__ import annotations

from typing import Any

from tradeloom.shared.context import CallerContext


class ServiceError(Exception):
    """An error a handler wants to return to its caller: stable code, message, details."""

    code = "internal"
    status = 500
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}

    def to_reply(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationFailed(ServiceError):
    code = "validation_error"
    status = 422


def field_invalid(field: str, message: str, **details: Any) -> ValidationFailed:
    """``validation_error`` naming one field of the request in ``details.fields`` (the gateway
    renames it to the public input, e.g. ``body.params.fast``); ``details`` adds context."""
    return ValidationFailed(
        f"{field}: {message}", details={"fields": [{"field": field, "message": message}], **details}
    )


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class Unauthorized(ServiceError):
    """No (or no valid) caller: a user-owned object was asked for without ``tl-user-id``."""

    code = "unauthorized"
    status = 401


def require_user(caller: CallerContext) -> str:
    """The caller's user id (``tl-user-id``, set by the gateway); ``Unauthorized`` without one.

    Every op on user-owned objects starts here: a request that names no user owns nothing."""
    if not caller.user_id:
        raise Unauthorized("no user in the request (tl-user-id): this object belongs to a user")
    return caller.user_id


class Unavailable(ServiceError):
    """The callee did not answer (no responders, timeout, broken connection): retry later."""

    code = "unavailable"
    status = 503
    retryable = True


class Timeout(Unavailable):
    code = "timeout"
    status = 504


class PayloadTooLarge(ServiceError):
    """A request (or a reply) over the NATS connection's ``max_payload`` (the server's limit, from
    its INFO): it cannot be sent at all, so the caller asks for fewer items or a page instead."""

    code = "payload_too_large"
    status = 413


class TransientError(Exception):
    """Raised by consumer handlers for failures worth retrying (the message is nak'ed with backoff)."""


class PermanentError(Exception):
    """Raised by consumer handlers for messages that can never succeed (dead-lettered at once)."""


# Codes the gateway maps to HTTP statuses; services may add their own with a status.
STATUS_BY_CODE: dict[str, int] = {
    "validation_error": 422,
    "bad_request": 400,
    "not_found": 404,
    "conflict": 409,
    "forbidden": 403,
    "unauthorized": 401,
    "rate_limited": 429,
    "unavailable": 503,
    "timeout": 504,
    "payload_too_large": 413,
    "reply_too_large": 413,
    "internal": 500,
}
