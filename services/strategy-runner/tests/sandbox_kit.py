"""A real sandbox-executor for the tests of user code and Python indicators (imported by module
name): its runtime on its own migrated schema, yielded once its isolation probe passed (runs are
not refused as unavailable)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bots_harness import eventually, service_runtime

from tradeloom.sandbox_executor import app as sandbox_app
from tradeloom.sandbox_executor.settings import SandboxExecutorSettings
from tradeloom.shared.rpc import ServiceClient


@asynccontextmanager
async def real_sandbox(
    pg_server: Any, database_url: str, nats_url: str, nats_prefix: str, client: ServiceClient, uid_base: int,
    **overrides: Any,
) -> AsyncIterator[None]:  # fmt: skip
    """``uid_base`` apart from the other sandbox tests'; ``overrides``: more of its settings."""
    async with service_runtime(
        sandbox_app, SandboxExecutorSettings, pg_server, database_url, nats_url, nats_prefix,
        **({"uid_base": uid_base, "rate_per_minute": 600} | overrides),
    ):  # fmt: skip

        async def ready() -> bool:
            health = await client.call_raw("sandbox-executor", "health", {}, timeout_s=10)
            return bool(health["ready"])

        await eventually(ready, timeout_s=120)
        yield
