"""Per-request context carried in contextvars (request id, user, correlation) for logs and calls."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

request_id_var: ContextVar[str | None] = ContextVar("tl_request_id", default=None)
correlation_id_var: ContextVar[str | None] = ContextVar("tl_correlation_id", default=None)

HEADER_USER_ID = "tl-user-id"
HEADER_ROLES = "tl-roles"
HEADER_REQUEST_ID = "tl-request-id"
HEADER_TRACEPARENT = "traceparent"
HEADER_TRACESTATE = "tracestate"
HEADER_MSG_ID = "Nats-Msg-Id"
HEADER_ERROR = "tl-error"
HEADER_ERROR_CODE = "tl-error-code"


@dataclass(frozen=True)
class CallerContext:
    """Who is asking, as the gateway told us in request headers."""

    user_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    request_id: str | None = None

    def headers(self) -> dict[str, str]:
        """The headers that carry this context to another service."""
        headers: dict[str, str] = {}
        if self.user_id:
            headers[HEADER_USER_ID] = self.user_id
        if self.roles:
            headers[HEADER_ROLES] = ",".join(sorted(self.roles))
        if self.request_id:
            headers[HEADER_REQUEST_ID] = self.request_id
        return headers

    @classmethod
    def from_headers(cls, headers: dict[str, str] | None) -> CallerContext:
        headers = headers or {}
        roles = frozenset(role for role in headers.get(HEADER_ROLES, "").split(",") if role)
        return cls(
            user_id=headers.get(HEADER_USER_ID) or None,
            roles=roles,
            request_id=headers.get(HEADER_REQUEST_ID) or None,
        )
