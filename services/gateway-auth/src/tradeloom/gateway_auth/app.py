"""Wiring: the one place gateway-auth builds its concrete objects."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from tradeloom.gateway_auth import SERVICE, __version__, api
from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.gateway_auth.http_api import create_http_app
from tradeloom.gateway_auth.invalidation import status_watch_task
from tradeloom.gateway_auth.settings import GatewayAuthSettings
from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.cli import service_main
from tradeloom.shared.migrations import find_migrations
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 300.0


def build_gateway(runtime: ServiceRuntime, settings: GatewayAuthSettings) -> Gateway:
    return Gateway(settings, lambda: runtime.engine, lambda: runtime.client, lambda: runtime.outbox)


def prune_task(gateway: Gateway) -> object:
    """Forget idle rate-limit buckets, old failure counters and expired idempotency keys."""

    async def prune(stop: asyncio.Event) -> None:
        while not stop.is_set():
            await wait_for_stop(stop, PRUNE_EVERY_S)
            if stop.is_set():
                return
            now = datetime.now(UTC)
            try:
                await gateway.limits.prune(now - timedelta(hours=1))
                await gateway.idempotency.prune(now - timedelta(seconds=gateway.settings.idempotency_ttl_s))
            except Exception:
                log.exception("pruning gateway tables failed; will retry")

    return prune


def build(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with gateway-auth's operations and public HTTP API registered, not yet started."""
    if not isinstance(settings, GatewayAuthSettings):
        raise TypeError("gateway-auth needs GatewayAuthSettings")
    runtime = ServiceRuntime(settings, service=SERVICE, version=__version__, description=__doc__ or "")
    api.register(runtime)
    gateway = build_gateway(runtime, settings)
    runtime.add_http_app(create_http_app(gateway), settings.http_host, settings.http_port, "http_port")
    runtime.add_task(prune_task(gateway))  # type: ignore[arg-type]
    runtime.add_task(status_watch_task(gateway, lambda: runtime.nc, runtime.subjects))
    return runtime


def main(argv: list[str] | None = None) -> int:
    return service_main(
        service=SERVICE,
        settings_cls=GatewayAuthSettings,
        build=build,
        migrations_dir=find_migrations(__file__),
        argv=argv,
    )
