"""analytics starts against real NATS and Postgres, migrates, answers ping and health."""

from tradeloom.analytics.app import build
from tradeloom.analytics.settings import AnalyticsSettings
from tradeloom.shared.testing.service_checks import check_service_skeleton


async def test_analytics_skeleton(database_url: str, nats_url: str, db_schema: str, nats_prefix: str) -> None:
    await check_service_skeleton(
        "analytics", AnalyticsSettings, build, database_url, nats_url, db_schema, nats_prefix
    )
