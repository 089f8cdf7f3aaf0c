"""strategy-runner starts against real NATS and Postgres, migrates, answers ping and health."""

from tradeloom.shared.testing.service_checks import check_service_skeleton
from tradeloom.strategy_runner.app import build
from tradeloom.strategy_runner.settings import StrategyRunnerSettings


async def test_strategy_runner_skeleton(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str
) -> None:
    await check_service_skeleton(
        "strategy-runner", StrategyRunnerSettings, build, database_url, nats_url, db_schema, nats_prefix
    )
