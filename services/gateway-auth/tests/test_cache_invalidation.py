"""Cached user state is dropped on every replica when an admin disables a user (event-driven)."""

from __future__ import annotations

import asyncio

from gateway_testkit import ApiFactory
from nats.aio.client import Client as NatsClient

from tradeloom.gateway_auth.invalidation import watch_user_status
from tradeloom.shared.outbox import OutboxRelay
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects


async def test_disable_on_one_replica_stops_tokens_on_another_before_the_cache_expires(
    make_api: ApiFactory, nc: NatsClient, nats_prefix: str, database_url: str
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    one, two = await make_api(user_cache_s=5), await make_api(user_cache_s=5)
    watch = await watch_user_status(two.gateway, nc, subjects)
    victim, session = await one.user()
    _, admin = await one.admin()
    assert (await two.http.get("/v1/users/me", headers=session)).status_code == 200  # now cached on two
    disabled = await one.http.post(f"/v1/admin/users/{victim['id']}/disable", headers=admin)
    assert disabled.status_code == 200
    assert (await one.http.get("/v1/users/me", headers=session)).status_code == 401  # the handling replica
    relay = OutboxRelay(one.engine, nc.jetstream(), one.outbox_schema, database_url=database_url)
    assert await relay.relay_once() >= 1  # what the runtime's relay does when NOTIFY wakes it
    for _ in range(50):  # well inside the 5 s cache lifetime
        if (await two.http.get("/v1/users/me", headers=session)).status_code == 401:
            break
        await asyncio.sleep(0.02)
    assert (await two.http.get("/v1/users/me", headers=session)).status_code == 401
    await watch.unsubscribe()
