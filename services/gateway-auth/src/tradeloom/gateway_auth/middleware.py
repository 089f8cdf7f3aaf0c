"""Pure ASGI middleware around every request: request id, trace span, security headers, body limit.

Pure ASGI (not ``BaseHTTPMiddleware``) keeps the per-request overhead small and lets the body
limit stop reading as soon as a request passes it. A few routes (dataset upload: a streamed file)
get their own, larger limit from ``body_limits``; every other request gets ``max_body_bytes``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradeloom.shared.context import request_id_var
from tradeloom.shared.telemetry import extract_trace, tracer

REQUEST_ID_HEADER = "x-request-id"
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
API_ONLY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]
DOCS_PATHS = ("/v1/docs",)  # Swagger UI needs scripts, so it gets no API content policy


def api_only_headers(path: str) -> bool:
    """The docs and the dashboard (``/``, ``/assets/*``: its own policy and caching) are not the API."""
    return not (path.startswith(DOCS_PATHS) or path == "/" or path.startswith("/assets/"))


class BodyTooLarge(Exception):
    pass


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            incoming = str(value.decode("latin-1"))
            if 0 < len(incoming) <= 128 and incoming.isprintable():
                return incoming
    return uuid.uuid4().hex


def _problem_413(limit: int, request_id: str) -> bytes:
    return json.dumps(
        {
            "type": "https://tradeloom.dev/problems/payload_too_large",
            "title": "payload too large",
            "status": 413,
            "detail": f"the request body is larger than {limit} bytes",
            "code": "payload_too_large",
            "request_id": request_id,
            "retryable": False,
            "details": {"max_bytes": limit},
        }
    ).encode()


def route_template(scope: Scope) -> str | None:
    """The matched route's path template (``/v1/backtests/{backtest_id}``), set by the router."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


@contextmanager
def _server_span(scope: Scope) -> Iterator[tuple[trace.Span, bool]]:
    """The request's one server span, and whether this middleware owns it: FastAPI's own (native
    telemetry, already current and continuing the caller's ``traceparent``) when there is one, so a
    request is one trace with one server span; else one started here from the caller's context,
    named by the method until the route is known (never the raw path: ids would make the set of
    span names unbounded)."""
    current = trace.get_current_span()
    if current.is_recording():
        yield current, False
        return
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    with tracer().start_as_current_span(
        scope["method"], context=extract_trace(headers), kind=trace.SpanKind.SERVER
    ) as span:
        span.set_attribute("http.request.method", scope["method"])
        yield span, True


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, max_body_bytes: int, body_limits: Mapping[tuple[str, str], int] | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_limits = dict(body_limits or {})  # (method, exact path) -> max bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        token = request_id_var.set(rid)
        extra = SECURITY_HEADERS + (API_ONLY_HEADERS if api_only_headers(scope["path"]) else [])
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), rid.encode()))
                headers.extend(extra)
                message = {**message, "headers": headers}
            await send(message)

        limit = self.body_limits.get((scope["method"], scope["path"]), self.max_body_bytes)
        try:
            declared = self._declared_length(scope)
            if declared is not None and declared > limit:
                await self._send_413(send_with_headers, rid, limit)
                return
            received = 0

            async def limited_receive() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise BodyTooLarge
                return message

            with _server_span(scope) as (span, owned):
                span.set_attribute("tl.request_id", rid)
                try:
                    await self.app(scope, limited_receive, send_with_headers)
                except BodyTooLarge:
                    if started:
                        raise
                    await self._send_413(send_with_headers, rid, limit)
                finally:
                    template = route_template(scope)
                    if owned and template is not None:
                        span.update_name(f"{scope['method']} {template}")
                        span.set_attribute("http.route", template)
        finally:
            request_id_var.reset(token)

    @staticmethod
    def _declared_length(scope: Scope) -> int | None:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return None
        return None

    @staticmethod
    async def _send_413(send: Any, rid: str, limit: int) -> None:
        body = _problem_413(limit, rid)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
