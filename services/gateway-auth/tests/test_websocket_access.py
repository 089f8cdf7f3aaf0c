"""A disabled user's WebSockets close at once on every replica, not at their next heartbeat.

Two served gateways (two replicas: own engines, own NATS connections, own caches) share Postgres and
NATS. The admin disables the user through replica A; A closes its socket at once, and B closes its
socket when ``auth.evt.user_status_changed`` reaches it through the outbox relay. The heartbeat is
60 s, so a close within seconds can only come from the event.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import httpx
import pytest
from gateway_testkit import PASSWORD
from nats.aio.client import Client as NatsClient
from sqlalchemy import text
from stream_testkit import new_user, open_socket, receive, served_gateway
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tradeloom.shared.db import create_engine
from tradeloom.shared.outbox import OutboxRelay

HEARTBEAT_S = 60.0


async def closed_by_the_server(ws: ClientConnection, timeout_s: float) -> tuple[int, str]:
    """The close code and reason, waiting at most ``timeout_s`` (kept below the heartbeat, so only
    the event can have closed it; how soon it does is a benchmark, not an assert)."""
    assert timeout_s < HEARTBEAT_S
    with pytest.raises(ConnectionClosed) as closed:
        await receive(ws, "never", timeout_s=timeout_s)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def make_admin(base: str, database_url: str, schema: str) -> dict[str, str]:
    """A registered user promoted in the database, logged in afresh."""
    admin_id, _ = await new_user(base, "root@example.com")
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(f"UPDATE \"{schema}\".users SET role = 'admin' WHERE id = :id"), {"id": admin_id}
        )
    await engine.dispose()
    async with httpx.AsyncClient(base_url=base) as http:
        login = await http.post("/v1/auth/login", json={"email": "root@example.com", "password": PASSWORD})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_disabling_a_user_closes_their_sockets_on_every_replica_at_once(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str, nc: NatsClient
) -> None:
    servers = (database_url, nats_url, db_schema, nats_prefix)
    engine = create_engine(database_url)
    async with AsyncExitStack() as stack:
        replica_a = await stack.enter_async_context(served_gateway(*servers, nc, ws_heartbeat_s=HEARTBEAT_S))
        replica_b = await stack.enter_async_context(served_gateway(*servers, nc, ws_heartbeat_s=HEARTBEAT_S))
        relay = OutboxRelay(engine, nc.jetstream(), db_schema, database_url=database_url)
        stop = asyncio.Event()
        relaying = asyncio.create_task(relay.run(stop))
        try:
            user_id, token = await new_user(replica_a, "trader@example.com")
            _, bystander_token = await new_user(replica_a, "other@example.com")
            admin = await make_admin(replica_a, database_url, db_schema)
            on_a, on_b = await open_socket(replica_a, token), await open_socket(replica_b, token)
            other_on_b = await open_socket(replica_b, bystander_token)

            async with httpx.AsyncClient(base_url=replica_a) as http:
                disabled = await http.post(f"/v1/admin/users/{user_id}/disable", headers=admin)
            assert disabled.status_code == 200, disabled.text

            code_a, reason_a = await closed_by_the_server(on_a, 30)  # well inside the 60 s heartbeat
            code_b, reason_b = await closed_by_the_server(on_b, 30)
            assert (code_a, code_b) == (4401, 4401)
            assert "disabled" in reason_a and "disabled" in reason_b
            # the other user's socket on the same replica stays open and usable
            await other_on_b.send('{"op": "subscribe", "channel": "prices.BTC/USDT"}')
            assert (await receive(other_on_b, "subscribed"))["channel"] == "prices.BTC/USDT"
            await other_on_b.close()
        finally:
            stop.set()
            await relaying
            await engine.dispose()
