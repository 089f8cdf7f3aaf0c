"""risk-monitor starts against real NATS and Postgres, migrates, answers ping and health."""

from tradeloom.risk_monitor.app import build
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared.testing.service_checks import check_service_skeleton


async def test_risk_monitor_skeleton(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str
) -> None:
    await check_service_skeleton(
        "risk-monitor", RiskMonitorSettings, build, database_url, nats_url, db_schema, nats_prefix
    )
