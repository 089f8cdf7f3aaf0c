"""strategy-runner's own runtime (its ``build()``, own migrated schema) for the gateway's tests."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.testing.ports import free_port
from tradeloom.strategy_runner import app as sr_app
from tradeloom.strategy_runner.settings import StrategyRunnerSettings


@asynccontextmanager
async def strategy_runner_runtime(
    pg_server: Any, database_url: str, nats_url: str, prefix: str
) -> AsyncIterator[ServiceRuntime]:
    """strategy-runner on a fresh migrated schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.execute(f'CREATE SCHEMA "{schema}"')
    migrations = find_migrations(sys.modules[sr_app.__name__].__file__ or "")
    await asyncio.to_thread(migrate, database_url, schema, migrations)
    settings = StrategyRunnerSettings(
        database_url=database_url, nats_url=nats_url, nats_prefix=prefix, db_schema=schema,
        environment="test", health_port=free_port(),
    )  # fmt: skip
    runtime = sr_app.build(settings)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()
        pg_server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
