"""Impersonation over NATS: a process that reaches NATS is not every user (issue 10, Security).

strategy-runner trusts ``tl-user-id`` because only the gateway (and services acting for a user
they serve) may send its requests. Before NATS had users, a plain connection asking
``svc.strategy-runner.strategies_list`` with another user's id got that user's strategies.
"""

from __future__ import annotations

from typing import Any

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from sr_caller import Caller

from tradeloom.shared.context import CallerContext
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.nats_permissions import IDENTITIES
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer

pytestmark = pytest.mark.integration
SMA = {"name": "trend 5-20", "template": "sma_cross", "params": {"fast": 5, "slow": 20}}
# identities that may not call strategies_list (the gateway may; the admin is the operators')
OTHERS = [who.name for who in IDENTITIES if not who.admin and who.name != "gateway-auth"]


async def connect_as(nats_server: NatsServer, user: str, **extra: Any) -> Client:
    return await nats.connect(
        nats_server.url, max_reconnect_attempts=0, **nats_server.client_options(user), **extra
    )


async def test_only_the_gateway_gets_a_users_strategies(
    alice: Caller, nats_server: NatsServer, nats_prefix: str
) -> None:
    sid = (await alice("strategies_create", SMA))["strategy_id"]
    subjects = Subjects(nats_prefix)

    gateway = await connect_as(nats_server, "gateway-auth")
    try:
        listed = await Caller(ServiceClient(gateway, subjects), "alice")("strategies_list", {})
        assert [item["strategy_id"] for item in listed["items"]] == [sid]
    finally:
        await gateway.close()

    assert len(OTHERS) >= 7
    for user in OTHERS:
        violations: list[str] = []

        async def on_error(error: Exception, violations: list[str] = violations) -> None:
            violations.append(str(error).lower())

        client = await connect_as(nats_server, user, error_cb=on_error)
        try:
            impostor = ServiceClient(client, subjects)
            with pytest.raises(Unavailable):  # never a reply, so never alice's data
                await impostor.call_raw(
                    "strategy-runner",
                    "strategies_list",
                    {},
                    caller=CallerContext(user_id="alice"),
                    timeout_s=1,
                )
        finally:
            await client.close()
        assert any("permissions violation" in v and "strategies_list" in v for v in violations), (
            user,
            violations,
        )


async def test_an_anonymous_connection_cannot_even_connect(alice: Caller, nats_server: NatsServer) -> None:
    with pytest.raises((nats.errors.Error, OSError)):
        await nats.connect(nats_server.url, allow_reconnect=False, connect_timeout=5)
