"""The live hub (``live_hub.py``) against a served gateway and real NATS: one JetStream consumer per
live feed shared by every socket following it, private events only to their owner's sockets (live
and resumed), exact resume while events keep coming, the last follower out removing the consumer,
and live followers across a nats-server restart (nothing lost, doubled or replayed)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient
from stream_testkit import (
    new_user,
    open_socket,
    publish_raw,
    publish_trades,
    receive,
    served_gateway,
    subscribe,
)
from websockets.asyncio.client import ClientConnection

from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.polling import eventually

Servers = tuple[str, str, str, str]


@pytest.fixture
def servers(database_url: str, nats_url: str, db_schema: str, nats_prefix: str) -> Servers:
    return database_url, nats_url, db_schema, nats_prefix


async def consumers(nc: NatsClient, prefix: str, stream: str) -> int:
    """How many ephemeral consumers the stream has on the server (the gateway's; the services'
    durable consumers, declared with the streams, are not counted)."""
    found = await nc.jetstream().consumers_info(Subjects(prefix).stream(stream))
    return len([info for info in found if not info.config.durable_name])


async def events(ws: ClientConnection, count: int, timeout_s: float = 10) -> list[dict[str, Any]]:
    return [await receive(ws, "event", timeout_s) for _ in range(count)]


async def subscribed(ws: ClientConnection, channel: str, after_seq: Any, early: list[dict[str, Any]]) -> None:
    """Subscribe, keeping the events that arrive before the reply (a resumed replay's first ones)."""
    await ws.send(json.dumps({"op": "subscribe", "channel": channel, "after_seq": after_seq}))
    while (message := await receive(ws))["type"] != "subscribed":
        assert message["type"] != "error", message
        if message["type"] == "event":
            early.append(message)


async def nothing_more(ws: ClientConnection, wait_s: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        extra = await receive(ws, "event", timeout_s=wait_s)
        print("unexpected", extra)


async def order(nc: NatsClient, prefix: str, user_id: str, order_id: str) -> int:
    return await publish_raw(nc, prefix, "orders", "order_placed", {"user_id": user_id, "order_id": order_id})


async def position(nc: NatsClient, prefix: str, user_id: str, symbol: str) -> int:
    return await publish_raw(nc, prefix, "risk", "position_changed", {"user_id": user_id, "symbol": symbol})


async def test_fifty_sockets_on_one_symbol_share_one_consumer(servers: Servers, nc: NatsClient) -> None:
    prefix = servers[3]
    async with served_gateway(*servers, nc) as base:
        _, token = await new_user(base, "many@example.com")
        sockets = [await open_socket(base, token) for _ in range(50)]
        for ws in sockets:
            assert (await subscribe(ws, "prices.BTC/USDT"))["type"] == "subscribed"
        assert await consumers(nc, prefix, "MD_TRADES") == 1
        await publish_trades(nc, prefix, "ETH/USDT", 1)  # another symbol: another feed, not followed
        sent = [await publish_trades(nc, prefix, "BTC/USDT", 100 + i) for i in range(20)]
        for ws in sockets:  # every socket, every trade, in stream order
            assert [item["seq"] for item in await events(ws, len(sent))] == sent
        assert await consumers(nc, prefix, "MD_TRADES") == 1

        for ws in sockets[:-1]:
            await ws.close()
        last = sockets[-1]
        again = await publish_trades(nc, prefix, "BTC/USDT", 500)
        assert (await receive(last, "event"))["seq"] == again  # the remaining follower still follows
        assert await consumers(nc, prefix, "MD_TRADES") == 1
        await last.send(json.dumps({"op": "unsubscribe", "channel": "prices.BTC/USDT"}))
        assert (await receive(last, "unsubscribed"))["channel"] == "prices.BTC/USDT"

        async def gone() -> bool:
            return await consumers(nc, prefix, "MD_TRADES") == 0

        await eventually(gone, "the last follower out removes the consumer", timeout=10)
        # a new follower makes a new consumer, live from now on
        assert (await subscribe(last, "prices.BTC/USDT"))["type"] == "subscribed"
        assert await consumers(nc, prefix, "MD_TRADES") == 1
        fresh = await publish_trades(nc, prefix, "BTC/USDT", 600)
        assert (await receive(last, "event"))["seq"] == fresh
        await last.close()


async def test_two_users_see_only_their_own_events_live_and_resumed(servers: Servers, nc: NatsClient) -> None:
    prefix = servers[3]
    async with served_gateway(*servers, nc) as base:
        alice_id, alice = await new_user(base, "alice@example.com")
        bob_id, bob = await new_user(base, "bob@example.com")
        sockets = {"alice": await open_socket(base, alice), "bob": await open_socket(base, bob)}
        for ws in sockets.values():
            for channel in ("orders", "positions"):
                assert (await subscribe(ws, channel))["type"] == "subscribed"
        assert await consumers(nc, prefix, "ORDERS") == 1  # both users' sockets share one
        assert await consumers(nc, prefix, "RISK") == 1

        mine: dict[str, list[int]] = {"alice": [], "bob": []}
        for i in range(4):
            for name, user_id in (("alice", alice_id), ("bob", bob_id)):
                mine[name].append(await order(nc, prefix, user_id, f"{name}-{i}"))
        await publish_raw(nc, prefix, "orders", "order_placed", {"order_id": "x"})  # no owner: nobody's
        a_pos = await position(nc, prefix, alice_id, "BTC/USDT")
        b_pos = await position(nc, prefix, bob_id, "ETH/USDT")
        for name, own_position in (("alice", a_pos), ("bob", b_pos)):
            got = await events(sockets[name], 5)
            assert [(g["channel"], g["seq"]) for g in got if g["channel"] == "orders"] == [
                ("orders", seq) for seq in mine[name]
            ]
            assert [g["event"]["data"]["order_id"] for g in got if g["channel"] == "orders"] == [
                f"{name}-{i}" for i in range(4)
            ]
            assert [(g["channel"], g["seq"]) for g in got if g["channel"] == "positions"] == [
                ("positions", own_position)
            ]
            await nothing_more(sockets[name])

        # Alice reconnects and resumes after her second order: the rest of hers, none of Bob's
        await sockets["alice"].close()
        resumed = await open_socket(base, alice)
        early: list[dict[str, Any]] = []  # a replay may begin before the next subscription's reply
        await subscribed(resumed, "orders", mine["alice"][1], early)
        await subscribed(resumed, "positions", {"RISK": 0}, early)
        later_bob = await order(nc, prefix, bob_id, "bob-later")
        later_alice = await order(nc, prefix, alice_id, "alice-later")
        got = early + await events(resumed, 4 - len(early))
        orders = [g["seq"] for g in got if g["channel"] == "orders"]
        assert orders == [*mine["alice"][2:], later_alice]
        assert [g["seq"] for g in got if g["channel"] == "positions"] == [a_pos]
        await nothing_more(resumed)
        assert later_bob in [g["seq"] for g in await events(sockets["bob"], 1)]
        await resumed.close()
        await sockets["bob"].close()


async def test_resume_while_events_keep_coming_loses_and_doubles_nothing(
    servers: Servers, nc: NatsClient
) -> None:
    prefix = servers[3]
    async with served_gateway(*servers, nc) as base:
        alice_id, alice = await new_user(base, "alice@example.com")
        live = await open_socket(base, alice)  # a live follower: the feed's hub exists throughout
        assert (await subscribe(live, "orders"))["type"] == "subscribed"
        published = [await order(nc, prefix, alice_id, f"before-{i}") for i in range(5)]
        after_seq = published[2]
        done = asyncio.Event()

        async def keep_publishing() -> None:
            for i in range(60):
                published.append(await order(nc, prefix, alice_id, f"during-{i}"))
                await asyncio.sleep(0.005)
            done.set()

        publisher = asyncio.create_task(keep_publishing())
        await asyncio.sleep(0.05)
        resumed = await open_socket(base, alice)
        early: list[dict[str, Any]] = []
        await subscribed(resumed, "orders", after_seq, early)
        await publisher
        wanted = [seq for seq in published if seq > after_seq]
        got = [item["seq"] for item in early + await events(resumed, len(wanted) - len(early))]
        assert got == wanted  # every event after the sequence, once, in order
        await nothing_more(resumed)
        seen_live = [item["seq"] for item in await events(live, len(published))]
        assert seen_live == published  # the live follower too: from its subscription on, each once
        await resumed.close()
        await live.close()


async def publish_retrying(publish: Any) -> int:
    """Publish once JetStream answers again after a restart (a few attempts may see no responders)."""
    for _ in range(200):
        try:
            return int(await publish())
        except Exception:
            await asyncio.sleep(0.1)
    raise AssertionError("JetStream did not come back")


async def test_live_followers_survive_a_nats_server_restart(
    servers: Servers, nc: NatsClient, nats_server: NatsServer
) -> None:
    prefix = servers[3]
    async with served_gateway(*servers, nc) as base:
        alice_id, alice = await new_user(base, "alice@example.com")
        old = [await position(nc, prefix, alice_id, f"OLD{i}/USDT") for i in range(3)]  # before any socket
        ws = await open_socket(base, alice)
        for channel in ("orders", "positions", "prices.BTC/USDT"):
            assert (await subscribe(ws, channel))["type"] == "subscribed"
        first = await order(nc, prefix, alice_id, "a-1")
        assert (await receive(ws, "event"))["seq"] == first
        # the positions feed has received nothing yet: after the reset it must not replay the stream
        reconnects = nc.stats["reconnects"]
        await asyncio.to_thread(nats_server.restart, kill=True)
        await eventually(lambda: nc.stats["reconnects"] > reconnects, "the test's client reconnected")
        second = await publish_retrying(lambda: order(nc, prefix, alice_id, "a-2"))
        new_position = await publish_retrying(lambda: position(nc, prefix, alice_id, "BTC/USDT"))
        trade = await publish_retrying(lambda: publish_trades(nc, prefix, "BTC/USDT", 7))
        got = await events(ws, 3, timeout_s=45)  # the consumers are recreated after missed heartbeats
        by_channel = {item["channel"]: item["seq"] for item in got}
        assert by_channel == {"orders": second, "positions": new_position, "prices.BTC/USDT": trade}, got
        assert new_position not in old  # none of the positions before the socket was replayed
        await nothing_more(ws, 1.0)
        third = await order(nc, prefix, alice_id, "a-3")
        assert (await receive(ws, "event"))["seq"] == third
        await ws.close()


async def test_a_resumed_subscription_with_nothing_new_does_not_replay_after_a_nats_server_restart(
    servers: Servers, nc: NatsClient, nats_server: NatsServer
) -> None:
    """A resumed subscription keeps its own consumer; reset before its first message, it must start
    again after the client's sequence, not at the stream's first (nats-py's default)."""
    prefix = servers[3]
    async with served_gateway(*servers, nc) as base:
        alice_id, alice = await new_user(base, "alice@example.com")
        old = [await position(nc, prefix, alice_id, f"OLD{i}/USDT") for i in range(3)]
        ws = await open_socket(base, alice)
        early: list[dict[str, Any]] = []
        await subscribed(ws, "positions", {"RISK": old[-1]}, early)
        assert early == []
        reconnects = nc.stats["reconnects"]
        await asyncio.to_thread(nats_server.restart, kill=True)
        await eventually(lambda: nc.stats["reconnects"] > reconnects, "the test's client reconnected")
        new_position = await publish_retrying(lambda: position(nc, prefix, alice_id, "BTC/USDT"))
        got = await events(ws, 1, timeout_s=45)
        assert [item["seq"] for item in got] == [new_position], got
        await nothing_more(ws, 1.0)
        await ws.close()
