"""Every error as ``application/problem+json`` (RFC 9457) with a stable ``code`` and the request id."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from tradeloom.gateway_auth.errors import RateLimited
from tradeloom.gateway_auth.middleware import BodyTooLarge
from tradeloom.shared.context import request_id_var
from tradeloom.shared.db import connection_lost
from tradeloom.shared.errors import STATUS_BY_CODE, ServiceError, Unauthorized

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}

# Codes other services reply with, beyond the shared ones (each service's README lists its own).
GATEWAY_STATUS: dict[str, int] = {
    **STATUS_BY_CODE,
    # sandbox-executor (tradeloom.shared.contracts.sandbox)
    "code_too_large": 413,
    "syntax_error": 400,
    "time_limit": 408,
    "memory_limit": 507,
    "quota_exceeded": 429,
    "rate_limited": 429,
    "sandbox_unavailable": 503,
    # order-router's venue errors (exchange connections and exchange accounts)
    "venue_auth_failed": 422,
    "invalid_order": 422,
    "insufficient_funds": 422,
    "not_supported": 422,
    "duplicate_client_order_id": 409,
    "order_not_found": 404,
    "venue_error": 502,
    "outcome_unknown": 504,
    "internal": 500,
}
RETRYABLE_CODES = frozenset(
    {"quota_exceeded", "rate_limited", "sandbox_unavailable", "unavailable", "timeout"}
)


class FieldProblem(BaseModel):
    field: str = Field(examples=["body.email"])
    message: str = Field(examples=["is not a valid email address"])


class Problem(BaseModel):
    """An error. ``code`` is stable; ``retryable`` says whether the same request may succeed later."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["https://tradeloom.dev/problems/validation_error"])
    title: str = Field(examples=["validation error"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["the request is invalid"])
    code: str = Field(examples=["validation_error"])
    request_id: str | None = None
    retryable: bool = False
    details: dict[str, Any] = Field(default_factory=dict)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    retryable: bool = False,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {
        "type": f"https://tradeloom.dev/problems/{code}",
        "title": code.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id_var.get(),
        "retryable": retryable,
        "details": details or {},
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem documents for ``statuses``."""
    return {status: {"model": Problem, "content": {PROBLEM: {}}} for status in statuses}


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def database_unreachable() -> Response:
    """Postgres (or another dependency) is restarting or refusing connections: retry soon."""
    return problem(503, "unavailable", "a backing service is not reachable; retry", retryable=True)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_: Request, error: ServiceError) -> Response:
        status = GATEWAY_STATUS.get(error.code, error.status)
        headers: dict[str, str] = {}
        if isinstance(error, RateLimited):
            headers["Retry-After"] = str(error.retry_after_s)
        if isinstance(error, Unauthorized):
            headers["WWW-Authenticate"] = 'Bearer realm="tradeloom"'
        return problem(
            status,
            error.code,
            error.message,
            retryable=error.retryable or error.code in RETRYABLE_CODES,
            details=error.details,
            headers=headers,
        )

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> Response:
        if isinstance(error.__cause__, BodyTooLarge):  # FastAPI wraps body-read errors in a 400
            return problem(413, "payload_too_large", "the request body is too large")
        code = HTTP_CODES.get(error.status_code, "http_error")
        return problem(error.status_code, code, str(error.detail), headers=dict(error.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> Response:
        errors = list(error.errors())
        malformed = [item for item in errors if item.get("type") == "json_invalid"]
        if malformed:
            message = str(malformed[0].get("ctx", {}).get("error", "malformed JSON"))
            return problem(
                400,
                "malformed_json",
                f"the request body is not valid JSON: {message}",
                details={"fields": [{"field": "body", "message": message}]},
            )
        fields = [{"field": _field_name(item["loc"]), "message": item["msg"]} for item in errors]
        named = ", ".join(f["field"] for f in fields[:5])
        return problem(422, "validation_error", f"invalid request: {named}", details={"fields": fields})

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> Response:
        log.exception("unhandled error: %r", error)
        return problem(500, "internal", "internal error")

    @app.exception_handler(PoolTimeout)
    async def database_busy(_: Request, error: PoolTimeout) -> Response:
        log.warning("database pool exhausted: %s", error)
        return problem(
            503,
            "unavailable",
            "the gateway is overloaded; retry",
            retryable=True,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, error: DBAPIError) -> Response:
        if connection_lost(error):
            return database_unreachable()
        return await unexpected(request, error)

    @app.exception_handler(OSError)
    async def connection_refused(_: Request, error: OSError) -> Response:
        log.warning("a dependency is not reachable: %r", error)
        return database_unreachable()
