"""A database that is overloaded or unreachable is 503 ``unavailable`` (retry), not 500: the
client's request was fine (a queue-pool time-out under load used to answer 500)."""

from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tradeloom.gateway_auth.problems import install_error_handlers


def app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    return app


async def call(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.get("/boom")


async def test_a_pool_timeout_is_503_retryable() -> None:
    reply = await call(app_raising(PoolTimeout("QueuePool limit of size 5 overflow 5 reached")))
    assert reply.status_code == 503
    assert reply.json()["code"] == "unavailable" and reply.json()["retryable"] is True
    assert reply.headers["retry-after"] == "1"


async def test_a_lost_or_refused_connection_is_503() -> None:
    lost = OperationalError("SELECT 1", {}, ConnectionResetError("reset"), connection_invalidated=True)
    shutting_down = OperationalError(
        "SELECT 1", {}, asyncpg.exceptions.CannotConnectNowError("shutting down")
    )
    for error in (lost, shutting_down, ConnectionRefusedError(111, "Connection refused")):
        reply = await call(app_raising(error))
        assert reply.status_code == 503, error
        assert reply.json()["code"] == "unavailable"


async def test_a_constraint_violation_is_still_an_internal_error() -> None:
    reply = await call(app_raising(IntegrityError("INSERT", {}, ValueError("duplicate key"))))
    assert reply.status_code == 500
    assert reply.json()["code"] == "internal"
