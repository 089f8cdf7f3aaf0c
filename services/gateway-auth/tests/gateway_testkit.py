"""Test helpers: settings for tests, and ``Api`` (an in-process gateway app with user helpers)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

import tradeloom.gateway_auth.app as gateway_app
from tradeloom.gateway_auth.app import find_migrations
from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.gateway_auth.http_api import create_http_app
from tradeloom.gateway_auth.settings import GatewayAuthSettings
from tradeloom.shared.db import create_engine
from tradeloom.shared.migrations import migrate
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.subjects import Subjects

PASSWORD = "violet-harbor-kettle-42"
_counter = itertools.count()


def make_settings(
    database_url: str, nats_url: str, schema: str, prefix: str, **overrides: Any
) -> GatewayAuthSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "db_schema": schema,
        "nats_prefix": prefix,
        "environment": "test",
        "jwt_secret": "test-signing-key-" + "k" * 32,
        "user_cache_s": 0,
        "rate_ip_capacity": 10_000,
        "rate_user_capacity": 10_000,
        "rate_login_capacity": 1_000,
        "rate_login_per_s": 100,
    }
    return GatewayAuthSettings(**(values | overrides))


@dataclass
class Api:
    """An in-process gateway app plus helpers to make users and log in."""

    gateway: Gateway
    http: httpx.AsyncClient
    engine: AsyncEngine
    outbox_schema: str
    app: Any = None

    async def register(self, email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        email = email or f"user{next(_counter)}-{id(self) % 10000}@example.com"
        response = await self.http.post("/v1/auth/register", json={"email": email, "password": password})
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.http.post("/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def user(self) -> tuple[dict[str, Any], dict[str, str]]:
        """A fresh user and the Authorization header of a session."""
        user = await self.register()
        tokens = await self.login(user["email"])
        return user, {"Authorization": f"Bearer {tokens['access_token']}"}

    async def admin(self) -> tuple[dict[str, Any], dict[str, str]]:
        user = await self.register()
        async with self.engine.begin() as conn:
            from sqlalchemy import text

            await conn.execute(
                text(f"UPDATE \"{self.outbox_schema}\".users SET role = 'admin' WHERE id = :id"),
                {"id": user["id"]},
            )
        tokens = await self.login(user["email"])
        return user, {"Authorization": f"Bearer {tokens['access_token']}"}


async def migrated(database_url: str, schema: str) -> None:
    await asyncio.to_thread(migrate, database_url, schema, find_migrations(gateway_app.__file__))


ApiFactory = Callable[..., Awaitable[Api]]
ServeFactory = Callable[..., str]  # settings overrides -> base URL of a gateway under uvicorn


def build_api(settings: GatewayAuthSettings, nc: Any, client_ip: str = "203.0.113.7") -> Api:
    """A gateway app on its own engine (like one replica), reached through httpx in-process."""
    subjects = Subjects(settings.nats_prefix)
    engine = create_engine(settings.sqlalchemy_url, pool_size=5)
    gateway = Gateway(
        settings,
        lambda: engine,
        lambda: ServiceClient(nc, subjects),
        lambda: Outbox(settings.db_schema, subjects, "tradeloom/gateway-auth"),
    )
    app = create_http_app(gateway)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(client_ip, 50000)), base_url="http://gateway.test"
    )
    return Api(gateway, client, engine, settings.db_schema, app)
