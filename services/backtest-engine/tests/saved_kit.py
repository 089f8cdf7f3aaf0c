"""What the backtests of saved strategies share (code runs, graph indicator runs, result views):
a stand-in of strategy-runner's ``strategy_versions_get``, a submit body naming a saved strategy,
and a real sandbox-executor for the runs of user code."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from nats.aio.client import Client

from tradeloom.sandbox_executor import app as sandbox_app
from tradeloom.sandbox_executor.settings import SandboxExecutorSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.strategy import StrategyVersionInfo, StrategyVersionRef
from tradeloom.shared.rpc import Operation, ServiceClient, serve
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service


@asynccontextmanager
async def saved_versions(
    harness: Any, version: Callable[[StrategyVersionRef], StrategyVersionInfo]
) -> AsyncIterator[None]:
    """strategy-runner's ``strategy_versions_get`` answering ``version(ref)`` while the block runs."""

    async def answer(_: CallerContext, body: StrategyVersionRef) -> StrategyVersionInfo:
        return version(body)

    op = Operation("strategy_versions_get", StrategyVersionRef, StrategyVersionInfo, answer)
    runner = await serve(
        harness.nc, service="strategy-runner", version="0.0.0", subjects=harness.subjects, operations=[op]
    )
    try:
        yield
    finally:
        await runner.stop()


def saved_body(harness: Any) -> dict[str, Any]:
    """The harness's submit body without a template (``| {"strategy_id": …}`` names a saved one)."""
    return {k: v for k, v in harness.body().items() if k not in ("strategy", "params")}


@asynccontextmanager
async def real_sandbox(
    pg_server: Any, database_url: str, nats_url: str, nats_prefix: str, nc: Client, uid_base: int
) -> AsyncIterator[None]:
    """A real sandbox-executor on its own migrated schema, ready (its isolation probe passed:
    runs are not refused as unavailable); ``uid_base`` apart from the other sandbox tests'."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.execute(f'CREATE SCHEMA "{schema}"')
    await migrate_service(sandbox_app, database_url, schema)
    settings = SandboxExecutorSettings(
        database_url=database_url, nats_url=nats_url, nats_prefix=nats_prefix, db_schema=schema,
        environment="test", health_port=free_port(), uid_base=uid_base, rate_per_minute=600,
    )  # fmt: skip
    runtime = sandbox_app.build(settings)
    await runtime.start()
    client = ServiceClient(nc, Subjects(nats_prefix))

    async def ready() -> bool:
        return bool((await client.call_raw("sandbox-executor", "health", {}, timeout_s=10))["ready"])

    try:
        await eventually(ready, "the sandbox is ready", timeout=120)
        yield
    finally:
        await runtime.stop()
        pg_server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
