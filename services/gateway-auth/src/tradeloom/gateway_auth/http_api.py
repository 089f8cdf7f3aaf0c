"""The public HTTP API (FastAPI). Routes are thin: one NATS request each (DESIGN section 2)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from starlette.exceptions import HTTPException

from tradeloom.gateway_auth import __version__
from tradeloom.gateway_auth.system_status import system_status
from tradeloom.shared.context import request_id_var
from tradeloom.shared.contracts.system import SystemStatus
from tradeloom.shared.errors import STATUS_BY_CODE, ServiceError
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.telemetry import extract_trace, tracer

PROBLEM = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-ID"


def problem(
    status: int, code: str, title: str, detail: str, request_id: str | None, **extra: object
) -> Response:
    """An RFC 9457 problem document with our stable ``code``."""
    body = {
        "type": f"https://tradeloom.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def create_http_app(client_factory: Callable[[], ServiceClient], status_timeout_s: float = 0.8) -> FastAPI:
    """Build the public app; ``client_factory`` gives the NATS service client at request time."""
    app = FastAPI(
        title="Tradeloom API",
        version=__version__,
        description=(
            "The public REST API of Tradeloom. Errors are application/problem+json with a stable code."
        ),
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
    )

    @app.middleware("http")
    async def request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if 0 < len(incoming) <= 128 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id_var.set(rid)
        # The span's context rides on every NATS request this route makes (traceparent header).
        span_name = f"{request.method} {request.url.path}"
        try:
            with tracer().start_as_current_span(
                span_name, context=extract_trace(dict(request.headers)), kind=trace.SpanKind.SERVER
            ) as span:
                span.set_attribute("tl.request_id", rid)
                response = await call_next(request)
                span.set_attribute("http.response.status_code", response.status_code)
        finally:
            request_id_var.reset(token)
        response.headers[REQUEST_ID_HEADER] = rid
        return response

    @app.exception_handler(ServiceError)
    async def service_error(_: Request, error: ServiceError) -> Response:
        status = STATUS_BY_CODE.get(error.code, error.status)
        return problem(
            status,
            error.code,
            error.code.replace("_", " "),
            error.message,
            request_id_var.get(),
            retryable=error.retryable,
            details=error.details,
        )

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return problem(
            error.status_code, code, code.replace("_", " "), str(error.detail), request_id_var.get()
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> Response:
        fields = [
            {"field": ".".join(str(p) for p in item["loc"]), "message": item["msg"]}
            for item in error.errors()
        ]
        return problem(
            422,
            "validation_error",
            "validation error",
            "the request is invalid",
            request_id_var.get(),
            details={"fields": fields},
        )

    @app.get(
        "/v1/system/status",
        response_model=SystemStatus,
        tags=["system"],
        summary="Health, version and latency of every service",
        description="Pings every service over NATS; a service that does not answer within the deadline "
        "is reported `down` (within a second), never as a hung request. Public: it carries no user data.",
    )
    async def get_system_status() -> SystemStatus:
        return await system_status(client_factory(), status_timeout_s)

    return app
