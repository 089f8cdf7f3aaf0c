"""gateway-auth starts against real NATS and Postgres, migrates, answers ping and health."""

import pytest

from tradeloom.gateway_auth.app import build
from tradeloom.gateway_auth.settings import GatewayAuthSettings
from tradeloom.shared.testing.service_checks import check_service_skeleton, free_port_settings


async def test_gateway_auth_skeleton(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TL_GATEWAY_AUTH_JWT_SECRET", "skeleton-test-signing-key-" + "k" * 20)
    await check_service_skeleton(
        "gateway-auth", GatewayAuthSettings, build, database_url, nats_url, db_schema, nats_prefix
    )


def test_skeleton_binds_no_default_port() -> None:
    """The skeleton check gives the public API port a free port too (``make run`` holds 8000)."""
    ports = free_port_settings(GatewayAuthSettings)
    assert set(ports) == {"health_port", "http_port"}
    for name, port in ports.items():
        assert port != GatewayAuthSettings.model_fields[name].default
