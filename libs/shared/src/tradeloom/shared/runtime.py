"""The service runtime: the one place a service's concrete clients are built, started and stopped.

It connects NATS and Postgres (bounded retries, then one clear error naming the setting), serves
/healthz, /readyz and /metrics, answers ``svc.<service>.ping`` and the service's operations, runs
the outbox relay, durable consumers and background tasks, and stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.micro.service import Service
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.aio import freeze_startup_heap, wait_for_stop
from tradeloom.shared.batch_consumer import BatchConsumer, BatchHandler, Probe
from tradeloom.shared.consumer import ConsumerMetrics, DurableConsumer, Handler
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.system import PingReply, PingRequest, ServiceStarted
from tradeloom.shared.db import create_engine, ping
from tradeloom.shared.health import HealthState, health_app, http_server
from tradeloom.shared.nats_auth import service_options
from tradeloom.shared.outbox import Outbox, OutboxRelay
from tradeloom.shared.rpc import Operation, ServiceClient, serve
from tradeloom.shared.settings import ServiceSettings
from tradeloom.shared.streams import ConsumerSpec
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.telemetry import Telemetry

log = logging.getLogger(__name__)

Task = Callable[[asyncio.Event], Awaitable[None]]


class StartupError(Exception):
    """The service cannot start; the message is one line naming the setting to fix."""


def describe_database(url: str) -> str:
    """host:port/database of a URL, without credentials, for error messages."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


class ServiceRuntime:
    """Wires and runs one service instance. Register operations, consumers and tasks before ``start``."""

    def __init__(self, settings: ServiceSettings, *, service: str, version: str, description: str = ""):
        self.settings = settings
        self.service = service
        self.version = version
        self.description = description
        self.instance_id = f"{service}-{uuid.uuid4().hex[:8]}"
        self.registry = CollectorRegistry()
        self.subjects = Subjects(settings.nats_prefix)
        self.health = HealthState(service, self.registry)
        self.consumer_metrics = ConsumerMetrics(self.registry)
        self.operations: list[Operation[Any, Any]] = []
        self.consumers: list[DurableConsumer] = []
        self._consumer_specs: list[tuple[ConsumerSpec, Handler | None, BatchHandler | None]] = []
        self._batch_sizes: dict[str, int] = {}  # durable -> messages fetched at once (default 50)
        self._batch_options: dict[str, dict[str, Any]] = {}  # durable -> gather_s, probe
        self._tasks: list[Task] = []
        self._http_apps: list[tuple[Any, str, int, str]] = []
        self._running: list[asyncio.Task[Any]] = []
        self._servers: list[Any] = []
        self._micro: Service | None = None
        self._nc: Client | None = None
        # The refusal of our credentials, kept once seen: a later attempt's error may be only the
        # closed connection (EOF) that follows the server's -ERR, depending on what is read first.
        self._nats_refusal: Exception | None = None
        self._engine: AsyncEngine | None = None
        self.telemetry: Telemetry | None = None
        self.stop_event = asyncio.Event()
        self.started_at = time.monotonic()

    # --- registration -------------------------------------------------------------------------
    def add_operation(self, operation: Operation[Any, Any]) -> None:
        self.operations.append(operation)

    def add_consumer(self, spec: ConsumerSpec, handler: Handler, *, batch_size: int | None = None) -> None:
        """``batch_size``: messages taken at once (1 for long jobs, so a busy replica holds none that
        another could start)."""
        self._consumer_specs.append((spec, handler, None))
        if batch_size is not None:
            self._batch_sizes[spec.durable] = batch_size

    def add_batch_consumer(
        self, spec: ConsumerSpec, handler: BatchHandler, *, gather_s: float = 0.0, probe: Probe | None = None
    ) -> None:
        """A consumer applying each fetched batch in one transaction (``batch_consumer``); with
        ``gather_s`` it waits that long after a first message for more to join its batch; a
        ``probe`` may take a batch that needs no transaction first (``BatchConsumer``)."""
        self._consumer_specs.append((spec, None, handler))
        self._batch_options[spec.durable] = {"gather_s": gather_s, "probe": probe}

    def add_task(self, task: Task) -> None:
        self._tasks.append(task)

    def add_http_app(self, app: Any, host: str, port: int, setting: str) -> None:
        """Serve another ASGI app (the gateway's public API) in this process."""
        self._http_apps.append((app, host, port, setting))

    # --- the built clients ----------------------------------------------------------------------
    @property
    def nc(self) -> Client:
        if self._nc is None:
            raise RuntimeError("runtime not started")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        return self.nc.jetstream()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("runtime not started")
        return self._engine

    @property
    def client(self) -> ServiceClient:
        return ServiceClient(self.nc, self.subjects)

    @property
    def outbox(self) -> Outbox:
        return Outbox(self.settings.db_schema, self.subjects, f"tradeloom/{self.service}")

    def setting_name(self, field: str) -> str:
        return (self.settings.env_prefix() + field).upper()

    # --- lifecycle ------------------------------------------------------------------------------
    async def _connect_nats(self) -> Client:
        """Connect, retrying until ``startup_timeout_s``; afterwards the client reconnects forever.

        nats-py retries the first connect forever when reconnects are unlimited, so the deadline
        is enforced here.
        """
        servers = [server.strip() for server in self.settings.nats_url.split(",")]
        try:
            return await asyncio.wait_for(
                nats.connect(
                    servers,
                    name=self.instance_id,
                    connect_timeout=2,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    disconnected_cb=self._on_nats_disconnected,
                    reconnected_cb=self._on_nats_reconnected,
                    error_cb=self._on_nats_error,
                    **service_options(self.settings),
                ),
                timeout=self.settings.startup_timeout_s,
            )
        except (TimeoutError, OSError, nats.errors.Error) as error:
            refusal = self._nats_refusal or (error if "authorization" in repr(error).lower() else None)
            if refusal is not None:
                raise StartupError(
                    f"NATS at {self.settings.nats_url} refused user {self.settings.nats_user!r} "
                    f"({self.setting_name('nats_password')}): {refusal!r}"
                ) from error
            raise StartupError(
                f"cannot reach NATS at {self.settings.nats_url} ({self.setting_name('nats_url')}) "
                f"within {self.settings.startup_timeout_s}s: {error!r}"
            ) from error

    async def _on_nats_disconnected(self) -> None:
        log.log(logging.INFO if self.stop_event.is_set() else logging.WARNING, "NATS disconnected")

    async def _on_nats_reconnected(self) -> None:
        log.info("NATS reconnected")

    async def _on_nats_error(self, error: Exception) -> None:
        if "authorization" in repr(error).lower():
            self._nats_refusal = error
        if "permissions violation" in str(error).lower():
            log.warning("NATS refused an operation of %s: %s", self.settings.nats_user, error)
        else:
            log.debug("NATS error: %r", error)

    async def _connect_database(self) -> AsyncEngine:
        url = self.settings.sqlalchemy_url
        engine = create_engine(url, application_name=self.instance_id, pool_size=self.settings.db_pool_size)
        deadline = time.monotonic() + self.settings.startup_timeout_s
        schema = self.settings.db_schema
        while True:
            try:
                async with engine.connect() as connection:
                    migrated = await connection.execute(
                        text("SELECT to_regclass(:table) IS NOT NULL"), {"table": f'"{schema}".outbox'}
                    )
                    if not migrated.scalar_one():
                        raise StartupError(
                            f"schema {schema!r} is not migrated ({self.setting_name('db_schema')}): "
                            f"run `python -m tradeloom.{self.service.replace('-', '_')} migrate`"
                        )
                return engine
            except StartupError:
                await engine.dispose()
                raise
            except Exception as error:
                if time.monotonic() >= deadline:
                    await engine.dispose()
                    raise StartupError(
                        f"cannot reach Postgres at {describe_database(url)} "
                        f"({self.setting_name('database_url')}): {error!r}"
                    ) from error
                await asyncio.sleep(0.5)

    async def _ping(self, _: CallerContext, __: PingRequest) -> PingReply:
        return PingReply(
            name=self.service,
            version=self.version,
            instance_id=self.instance_id,
            uptime_s=round(time.monotonic() - self.started_at, 3),
            ready=self.health.last_ready,
        )

    async def _start_http(self, app: Any, host: str, port: int, setting: str) -> None:
        server = http_server(app, host, port)

        async def serve() -> None:
            # uvicorn calls sys.exit() when it cannot bind; a SystemExit escaping a task would stop
            # the whole event loop instead of giving the one-line StartupError below.
            with contextlib.suppress(SystemExit):
                await server.serve()

        task = asyncio.create_task(serve(), name=f"http:{port}")
        while not server.started:
            if task.done():
                raise StartupError(f"cannot serve HTTP on {host}:{port} ({self.setting_name(setting)})")
            await asyncio.sleep(0.02)
        self._servers.append(server)
        self._running.append(task)

    async def _watch_readiness(self, stop: asyncio.Event) -> None:
        """Recompute readiness every second so ping and logs show transitions promptly."""
        previous: bool | None = None
        while not stop.is_set():
            checks = await self.health.readiness()
            ready = all(checks.values())
            if ready != previous:
                log.log(logging.INFO if ready else logging.WARNING, "ready=%s checks=%s", ready, checks)
                previous = ready
            await wait_for_stop(stop, 1.0)

    async def start(self) -> None:
        """Connect, serve and start every loop; raises ``StartupError`` with one clear line."""
        self.started_at = time.monotonic()
        self.telemetry = Telemetry(self.service, self.version, self.registry, self.settings.otlp_endpoint)
        self._nc = await self._connect_nats()
        self._engine = await self._connect_database()
        self.health.add_check("nats", self._nats_ready)
        self.health.add_check("database", lambda: ping(self.engine))
        # Ready only once NATS has every operation's subscription: /readyz answers before ``serve``,
        # and a caller that trusted it could otherwise meet "no responders".
        self.health.add_check("operations", self._operations_served)
        await self._start_http(
            health_app(self.health), self.settings.health_host, self.settings.health_port, "health_port"
        )
        for app, host, port, setting in self._http_apps:
            await self._start_http(app, host, port, setting)
        ping_op = Operation("ping", PingRequest, PingReply, self._ping, "liveness and version")
        self._micro = await serve(
            self.nc,
            service=self.service,
            version=self.version,
            subjects=self.subjects,
            operations=[ping_op, *self.operations],
            description=self.description,
        )
        await self.nc.flush()
        relay = OutboxRelay(
            self.engine,
            self.js,
            self.settings.db_schema,
            database_url=self.settings.sqlalchemy_url,
            registry=self.registry,
        )
        self._spawn(relay.run(self.stop_event), "outbox-relay")
        self._spawn(self._watch_readiness(self.stop_event), "readiness")
        for spec, handler, batch_handler in self._consumer_specs:
            common: dict[str, Any] = {
                "js": self.js,
                "engine": self.engine,
                "schema": self.settings.db_schema,
                "spec": spec,
                "subjects": self.subjects,
                "metrics": self.consumer_metrics,
            }
            if spec.durable in self._batch_sizes:
                common["batch_size"] = self._batch_sizes[spec.durable]
            if batch_handler is not None:
                consumer: DurableConsumer = BatchConsumer(
                    batch_handler=batch_handler, **self._batch_options[spec.durable], **common
                )
            else:
                assert handler is not None
                consumer = DurableConsumer(handler=handler, **common)
            self.consumers.append(consumer)
            self._spawn(consumer.run(self.stop_event, lambda: self.health.last_ready), spec.durable)
        for task in self._tasks:
            self._spawn(task(self.stop_event), getattr(task, "__name__", "task"))
        async with self.engine.begin() as connection:
            started = ServiceStarted(
                service=self.service,
                version=self.version,
                instance_id=self.instance_id,
                started_at=datetime.now(UTC),
            )
            await self.outbox.add(connection, started, self.service)
        log.info("%s %s started as %s", self.service, self.version, self.instance_id)

    async def _nats_ready(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def _operations_served(self) -> bool:
        return self._micro is not None

    def _spawn(self, coroutine: Awaitable[None], name: str) -> None:
        self._running.append(asyncio.ensure_future(coroutine))
        self._running[-1].set_name(name)

    async def stop(self) -> None:
        """Stop loops, servers and connections; safe to call twice."""
        self.stop_event.set()
        for server in self._servers:
            server.should_exit = True
        if self._running:
            _, pending = await asyncio.wait(self._running, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)
        self._running.clear()
        self._servers.clear()
        if self._micro is not None:
            await self._micro.stop()
            self._micro = None
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.drain()
        if self._engine is not None:
            await self._engine.dispose()
        if self.telemetry is not None:
            self.telemetry.shutdown()
        log.info("%s stopped", self.service)

    async def run_forever(self) -> None:
        """Start, then run until SIGTERM or SIGINT, then stop."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop_event.set)
        try:
            await self.start()
            freeze_startup_heap()
            await self.stop_event.wait()
        finally:
            await self.stop()
