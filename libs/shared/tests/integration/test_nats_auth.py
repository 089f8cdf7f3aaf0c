"""NATS authentication and per-service permissions against the real session server.

The session ``nats_server`` runs with the users of ``tradeloom.shared.nats_permissions``; these
tests connect as one identity at a time and check what the server lets it do.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from tradeloom.shared.context import CallerContext
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import STREAMS, ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer

pytestmark = pytest.mark.integration
DEADLINE_S = 20.0


class Session:
    """One authenticated connection and the errors the server sent it."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.client: Client | None = None

    async def on_error(self, error: Exception) -> None:
        self.errors.append(str(error).lower())

    async def violation(self, fragment: str) -> str:
        """Wait (polling) for a permissions violation naming ``fragment``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE_S
        while loop.time() < deadline:
            for error in self.errors:
                if "permissions violation" in error and fragment.lower() in error:
                    return error
            await asyncio.sleep(0.05)
        raise AssertionError(f"no permissions violation for {fragment!r}; errors: {self.errors}")


@contextlib.asynccontextmanager
async def connect_as(server: NatsServer, user: str, **extra: Any) -> AsyncIterator[tuple[Client, Session]]:
    session = Session()
    client = await nats.connect(
        server.url,
        error_cb=session.on_error,
        max_reconnect_attempts=0,
        **server.client_options(user),
        **extra,
    )
    try:
        yield client, session
    finally:
        await client.close()


@pytest.fixture
def connect(nats_server: NatsServer, nats_url: str) -> Callable[..., Any]:
    """``connect(user)``: an async context manager yielding (client, session) for that identity."""
    return lambda user, **extra: connect_as(nats_server, user, **extra)


async def refused(**options: Any) -> list[str]:
    errors: list[str] = []

    async def on_error(error: Exception) -> None:
        errors.append(repr(error).lower())

    with pytest.raises((nats.errors.Error, OSError)):
        await nats.connect(**options, error_cb=on_error, allow_reconnect=False, connect_timeout=5)
    return errors


async def test_a_connection_without_credentials_is_refused(nats_url: str) -> None:
    errors = await refused(servers=[nats_url])
    assert any("authorization" in error for error in errors), errors


async def test_a_wrong_password_is_refused(nats_url: str) -> None:
    errors = await refused(servers=[nats_url], user="gateway-auth", password="not-the-password")
    assert any("authorization" in error for error in errors), errors


async def test_every_identity_connects_with_its_own_password(nats_server: NatsServer, nats_url: str) -> None:
    for user in nats_server.passwords:
        client = await nats.connect(nats_url, max_reconnect_attempts=0, **nats_server.client_options(user))
        assert client.is_connected
        await client.close()


async def test_market_data_cannot_call_strategy_runner(connect: Any, nc: Client, nats_prefix: str) -> None:
    """The op is there (a responder answers the admin), but market-data's request never reaches it."""
    subjects = Subjects(nats_prefix)
    subject = subjects.request("strategy-runner", "strategies_list")
    received: list[Msg] = []

    async def answer(msg: Msg) -> None:
        received.append(msg)
        await msg.respond(b'{"data": {"items": []}}')

    responder = await nc.subscribe(subject, cb=answer)
    await nc.flush()
    try:
        await ServiceClient(nc, subjects).call_raw("strategy-runner", "strategies_list", {}, timeout_s=5)
        assert len(received) == 1
        async with connect("market-data") as (client, session):
            caller = CallerContext(user_id="someone-else")
            with pytest.raises(ServiceError):
                await ServiceClient(client, subjects).call_raw(
                    "strategy-runner", "strategies_list", {}, caller=caller, timeout_s=1
                )
            await session.violation(f'publish to "{subject}"')
        assert len(received) == 1  # only the admin's request arrived
    finally:
        await responder.unsubscribe()


@pytest.mark.parametrize(
    ("user", "subject"),
    [
        ("market-data", "orders.evt.fill.v1.x"),  # another domain's events
        ("market-data", "svc.order-router.submit"),
        ("risk-monitor", "svc.order-router.submit"),
        ("order-router", "svc.market-data.candles"),
        ("backtest-engine", "svc.strategy-runner.strategies_list"),  # only strategy_versions_get
        ("sandbox-executor", "backtest.cmd.run.v1"),
        ("strategy-runner", "system.evt.service_started.v1.market-data"),  # another's lifecycle
    ],
)
async def test_publishing_outside_the_permissions_is_refused(
    connect: Any, nats_prefix: str, user: str, subject: str
) -> None:
    full = f"{nats_prefix}.{subject}"
    async with connect(user) as (client, session):
        await client.publish(full, b"{}")
        await client.flush()
        await session.violation(f'publish to "{full}"')


@pytest.mark.parametrize(
    ("user", "subject"),
    [
        ("market-data", "svc.strategy-runner.>"),  # listening in on another service's requests
        ("analytics", "_INBOX.>"),  # reading everyone's replies
        ("backtest-engine", "_INBOX.gateway-auth.>"),
        ("risk-monitor", "orders.evt.>"),  # events are read through durable consumers only
    ],
)
async def test_subscribing_outside_the_permissions_is_refused(
    connect: Any, nats_prefix: str, user: str, subject: str
) -> None:
    full = subject if subject.startswith("_INBOX") else f"{nats_prefix}.{subject}"
    async with connect(user) as (client, session):
        await client.subscribe(full)
        await client.flush()
        await session.violation(f'subscription to "{full}"')


async def test_allowed_calls_work(connect: Any, nc: Client, nats_prefix: str) -> None:
    """The gateway may call any op, backtest-engine market-data's: each gets its reply."""
    subjects = Subjects(nats_prefix)

    async def answer(msg: Msg) -> None:
        await msg.respond(b'{"data": {"ok": true}}')

    subscriptions = [
        await nc.subscribe(subjects.request("strategy-runner", "strategies_list"), cb=answer),
        await nc.subscribe(subjects.request("market-data", "candles"), cb=answer),
    ]
    await nc.flush()
    try:
        for user, service, op in [
            ("gateway-auth", "strategy-runner", "strategies_list"),
            ("backtest-engine", "market-data", "candles"),
        ]:
            async with connect(user) as (client, session):
                reply = await ServiceClient(client, subjects).call_raw(service, op, {}, timeout_s=10)
                assert reply == {"ok": True}
                assert session.errors == []
    finally:
        for subscription in subscriptions:
            await subscription.unsubscribe()


async def test_a_service_gets_its_pipelined_publish_acks(connect: Any, nc: Client, nats_prefix: str) -> None:
    """The outbox relay's ``publish_async`` acks come to a reply inbox under the identity's own prefix."""
    subjects = Subjects(nats_prefix)
    spec = next(s for s in STREAMS if s.name == "ORDERS")
    await ensure_streams(nc.jetstream(), subjects, streams=(spec,), consumers=())
    try:
        async with connect("order-router") as (client, session):
            js = client.jetstream()
            futures = [
                await js.publish_async(
                    subjects.event("orders", "probe", 1, "a"), b"{}", headers={"Nats-Msg-Id": f"probe-{n}"}
                )
                for n in range(3)
            ]
            acks = await asyncio.wait_for(asyncio.gather(*futures), timeout=DEADLINE_S)
            assert [ack.seq for ack in acks] == [1, 2, 3]
            assert session.errors == []
    finally:
        await nc.jetstream().delete_stream(subjects.stream("ORDERS"))
