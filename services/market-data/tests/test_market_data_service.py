"""market-data starts against real NATS and Postgres, migrates, answers ping and health."""

from tradeloom.market_data.app import build
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.shared.testing.service_checks import check_service_skeleton


async def test_market_data_skeleton(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str
) -> None:
    await check_service_skeleton(
        "market-data", MarketDataSettings, build, database_url, nats_url, db_schema, nats_prefix
    )
