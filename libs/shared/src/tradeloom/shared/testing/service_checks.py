"""One reusable check that a service skeleton really works against real NATS and Postgres."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import httpx
import nats

from tradeloom.shared.contracts.system import PingReply, ServiceStarted
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.nats_auth import admin_options
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port


def free_port_settings(settings_cls: type[ServiceSettings]) -> dict[str, Any]:
    """A free port for each of the settings class's ``*_port`` fields."""
    return {name: free_port() for name in settings_cls.model_fields if name.endswith("_port")}


async def check_service_skeleton(
    service: str,
    settings_cls: type[ServiceSettings],
    build: Callable[[ServiceSettings], ServiceRuntime],
    database_url: str,
    nats_url: str,
    db_schema: str,
    nats_prefix: str,
) -> None:
    """Migrate (twice), start, ping over NATS, probe health, see ServiceStarted relayed, stop.

    Every ``*_port`` setting (health, and e.g. gateway-auth's ``http_port``) gets a free port: a
    test never binds a default port, which ``make run`` on the same machine holds.
    """
    settings = settings_cls(
        database_url=database_url,
        nats_url=nats_url,
        db_schema=db_schema,
        nats_prefix=nats_prefix,
        environment="test",
        **free_port_settings(settings_cls),
    )
    migrations = find_migrations(sys.modules[build.__module__].__file__ or "")
    for _ in range(2):  # idempotent
        await asyncio.to_thread(migrate, settings.sqlalchemy_url, db_schema, migrations)
    subjects = Subjects(nats_prefix)
    observer = await nats.connect(nats_url, **admin_options())
    try:
        await ensure_streams(observer.jetstream(), subjects)
        runtime = build(settings)
        await runtime.start()
        try:
            reply = await ServiceClient(observer, subjects).call(service, "ping", None, PingReply)
            assert reply.name == service
            assert reply.uptime_s >= 0
            base = f"http://127.0.0.1:{settings.health_port}"
            async with httpx.AsyncClient(base_url=base, timeout=5) as http:
                assert (await http.get("/healthz")).status_code == 200
                ready = await http.get("/readyz")
                assert ready.status_code == 200, ready.text
                assert ready.json()["checks"] == {"nats": True, "database": True, "operations": True}
                assert "tl_outbox_published" in (await http.get("/metrics")).text
            subject = subjects.event("system", "service_started", 1, service)
            consumer = await observer.jetstream().pull_subscribe(subject, stream=subjects.stream("SYSTEM"))
            messages = await consumer.fetch(1, timeout=10)
            started: ServiceStarted = Envelope.from_bytes(messages[0].data).unwrap(ServiceStarted)
            assert started.instance_id == runtime.instance_id
        finally:
            await runtime.stop()
    finally:
        await observer.close()
