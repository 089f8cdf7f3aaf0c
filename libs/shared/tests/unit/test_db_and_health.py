"""Small helpers: schema-name guard, URL forms, and the readiness logic of the health app."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client import CollectorRegistry

from tradeloom.shared.db import asyncpg_url, check_schema_name, libpq_url
from tradeloom.shared.health import HealthState, health_app
from tradeloom.shared.migrations import outbox_channel
from tradeloom.shared.runtime import describe_database


@pytest.mark.parametrize("name", ["market_data", "t_0123abcd", "_x", "a" * 63])
def test_schema_names_accepted(name: str) -> None:
    assert check_schema_name(name) == name


@pytest.mark.parametrize("name", ["", "Market", "1abc", "a-b", 'a"b', "a;drop", "a\n", "a" * 64, "é"])
def test_schema_names_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid schema name"):
        check_schema_name(name)


def test_url_forms() -> None:
    assert asyncpg_url("postgresql://u:p@h:5/d") == "postgresql+asyncpg://u:p@h:5/d"
    assert asyncpg_url("postgres://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert asyncpg_url("postgresql+asyncpg://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert libpq_url("postgresql+asyncpg://u:p@h/d") == "postgresql://u:p@h/d"
    assert describe_database("postgresql+asyncpg://u:secret@db.internal/tl") == "db.internal:5432/tl"
    assert outbox_channel("market_data") == "tl_outbox_market_data"
    with pytest.raises(ValueError):
        outbox_channel("bad name")


async def test_readiness_needs_every_check() -> None:
    state = HealthState("demo", CollectorRegistry(), check_timeout_s=0.2)

    async def ok() -> bool:
        return True

    async def slow() -> bool:
        await asyncio.sleep(5)
        return True

    async def broken() -> bool:
        raise ConnectionError("down")

    state.add_check("nats", ok)
    assert await state.readiness() == {"nats": True} and state.last_ready
    state.add_check("database", slow)
    state.add_check("cache", broken)
    assert await state.readiness() == {"nats": True, "database": False, "cache": False}
    assert not state.last_ready

    transport = httpx.ASGITransport(app=health_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://health") as http:
        assert (await http.get("/healthz")).json() == {"status": "alive", "service": "demo"}
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"ready": False, "checks": {"nats": True, "database": False, "cache": False}}
        assert (await http.get("/metrics")).status_code == 200
        state.checks.pop("database")
        state.checks.pop("cache")
        assert (await http.get("/readyz")).status_code == 200
