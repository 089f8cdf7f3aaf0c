"""order-router starts against real NATS and Postgres, migrates, answers ping and health."""

from tradeloom.order_router.app import build
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.testing.service_checks import check_service_skeleton


async def test_order_router_skeleton(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str
) -> None:
    await check_service_skeleton(
        "order-router", OrderRouterSettings, build, database_url, nats_url, db_schema, nats_prefix
    )
