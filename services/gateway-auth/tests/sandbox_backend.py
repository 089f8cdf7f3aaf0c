"""A real sandbox-executor runtime for gateway tests (allowed in tests only: import-linter checks the
source packages), on its own schema and uid range, started in-process like its own tests do."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

import nats
from sqlalchemy import text

from tradeloom.sandbox_executor.app import build
from tradeloom.sandbox_executor.settings import SandboxExecutorSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.db import create_engine
from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.nats_auth import admin_options
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.sandbox_uids import uid_base

UID_BASE = uid_base(230_000)  # apart from the service default and sandbox-executor's own tests


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
    helper = await nats.connect(nats_url, **admin_options())
    await ensure_streams(helper.jetstream(), Subjects(prefix))
    runtime = build(settings)
    await runtime.start()
    try:
        try:
            client = ServiceClient(helper, runtime.subjects)  # a service may not call itself over NATS
            for _ in range(300):  # the isolation probe runs in a task after start
                health = await client.call_raw("sandbox-executor", "health", {}, caller=CallerContext())
                if health["ready"]:
                    break
                await asyncio.sleep(0.05)
            assert health["ready"], health
        finally:
            await helper.close()
        yield runtime
    finally:
        await runtime.stop()
        engine = create_engine(settings.sqlalchemy_url)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


class RuntimesThread:
    """Async context managers (runtimes of other services) entered in order in a thread with its own
    event loop, kept open until ``__exit__`` and closed in reverse: for synchronous tests
    (schemathesis). Each factory is called inside that loop."""

    def __init__(self, *factories: Callable[[], AbstractAsyncContextManager[object]]) -> None:
        self.factories = factories
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.loop = asyncio.new_event_loop()
        self.stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self.stop = asyncio.Event()
            try:
                async with AsyncExitStack() as stack:
                    for factory in self.factories:
                        await stack.enter_async_context(factory())
                    self.ready.set()
                    await self.stop.wait()
            except BaseException as error:
                self.failed = error
                self.ready.set()

        try:
            self.loop.run_until_complete(main())
        finally:
            self.loop.close()

    def __enter__(self) -> RuntimesThread:
        self.thread.start()
        if not self.ready.wait(timeout=90):
            self.__exit__()
            raise RuntimeError("the runtimes did not start within 90 s")
        if self.failed is not None:
            self.thread.join(timeout=30)
            raise RuntimeError("a runtime did not start") from self.failed
        return self

    def __exit__(self, *_: object) -> None:
        if self.stop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(timeout=30)
