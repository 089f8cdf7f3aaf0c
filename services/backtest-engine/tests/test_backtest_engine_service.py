"""backtest-engine starts against real NATS and Postgres, migrates, answers ping and health."""

from tradeloom.backtest_engine.app import build
from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.shared.testing.service_checks import check_service_skeleton


async def test_backtest_engine_skeleton(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str
) -> None:
    await check_service_skeleton(
        "backtest-engine", BacktestEngineSettings, build, database_url, nats_url, db_schema, nats_prefix
    )
