"""A real sandbox-executor runtime for gateway tests (allowed in tests only: import-linter checks the
source packages), on its own schema and uid range, started in-process like its own tests do."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from sqlalchemy import text

from tradeloom.sandbox_executor.app import build
from tradeloom.sandbox_executor.settings import SandboxExecutorSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.db import create_engine
from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port

UID_BASE = 230_000  # apart from the service default and sandbox-executor's own tests


@asynccontextmanager
async def sandbox_executor(
    database_url: str, nats_url: str, gateway_schema: str, prefix: str
) -> AsyncIterator[ServiceRuntime]:
    """sandbox-executor running (isolation probe passed) until the block ends; schema dropped then."""
    schema = f"{gateway_schema}_sbx"
    settings = SandboxExecutorSettings(
        database_url=database_url, nats_url=nats_url, db_schema=schema, nats_prefix=prefix,
        environment="test", health_port=free_port(), uid_base=UID_BASE, stdout_max_bytes=4096,
    )  # fmt: skip
    migrations = find_migrations(sys.modules[build.__module__].__file__ or "")
    await asyncio.to_thread(migrate, settings.sqlalchemy_url, schema, migrations)
    helper = await nats.connect(nats_url)
    await ensure_streams(helper.jetstream(), Subjects(prefix))
    await helper.close()
    runtime = build(settings)
    await runtime.start()
    try:
        client = ServiceClient(runtime.nc, runtime.subjects)
        for _ in range(300):  # the isolation probe runs in a task after start
            health = await client.call_raw("sandbox-executor", "health", {}, caller=CallerContext())
            if health["ready"]:
                break
            await asyncio.sleep(0.05)
        assert health["ready"], health
        yield runtime
    finally:
        await runtime.stop()
        engine = create_engine(settings.sqlalchemy_url)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


class SandboxThread:
    """``sandbox_executor`` in a thread with its own event loop, for synchronous tests (schemathesis)."""

    def __init__(self, database_url: str, nats_url: str, gateway_schema: str, prefix: str) -> None:
        self.args = (database_url, nats_url, gateway_schema, prefix)
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.loop = asyncio.new_event_loop()
        self.stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self.stop = asyncio.Event()
            try:
                async with sandbox_executor(*self.args):
                    self.ready.set()
                    await self.stop.wait()
            except BaseException as error:
                self.failed = error
                self.ready.set()

        self.loop.run_until_complete(main())

    def __enter__(self) -> SandboxThread:
        self.thread.start()
        self.ready.wait(timeout=60)
        if self.failed is not None:
            raise RuntimeError("sandbox-executor did not start") from self.failed
        return self

    def __exit__(self, *_: object) -> None:
        if self.stop is not None:
            self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(timeout=30)
