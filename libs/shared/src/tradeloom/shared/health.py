"""The small HTTP app every service serves: /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Check = Callable[[], Awaitable[bool]]


class HealthState:
    """Named readiness checks; the service is ready when every check passes within its timeout."""

    def __init__(self, service: str, registry: CollectorRegistry, check_timeout_s: float = 1.0) -> None:
        self.service = service
        self.registry = registry
        self.check_timeout_s = check_timeout_s
        self.checks: dict[str, Check] = {}
        self.last_ready = False

    def add_check(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def _run(self, check: Check) -> bool:
        try:
            return await asyncio.wait_for(check(), timeout=self.check_timeout_s)
        except Exception:
            return False

    async def readiness(self) -> dict[str, bool]:
        names = list(self.checks)
        results = await asyncio.gather(*(self._run(self.checks[name]) for name in names))
        outcome = dict(zip(names, results, strict=True))
        self.last_ready = all(results)
        return outcome


def health_app(state: HealthState) -> Starlette:
    """Starlette app with liveness, readiness and Prometheus metrics."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "alive", "service": state.service})

    async def readyz(_: Request) -> Response:
        checks = await state.readiness()
        ready = all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(state.registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ]
    )


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the service runtime."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def http_server(app: Starlette | object, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for ``app`` that runs inside the service's own event loop."""
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 (its default): a local client could
        # then claim any address. Services that need the client behind a proxy resolve it
        # themselves from an explicit allow-list (gateway-auth: TRUSTED_PROXIES).
        proxy_headers=False,
    )
    return EmbeddedServer(config)
