"""sandbox-executor starts against real NATS and Postgres, migrates, answers ping and health."""

from tradeloom.sandbox_executor.app import build
from tradeloom.sandbox_executor.settings import SandboxExecutorSettings
from tradeloom.shared.testing.service_checks import check_service_skeleton


async def test_sandbox_executor_skeleton(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str
) -> None:
    await check_service_skeleton(
        "sandbox-executor", SandboxExecutorSettings, build, database_url, nats_url, db_schema, nats_prefix
    )
