"""The live hub's dispatch rules without a server (``LiveFeed.dispatch``): a private event reaches
only its owner's followers and only on the channels that carry it, a public one every follower,
a failing follower does not stop the others, a malformed envelope nobody; the real consumer,
resets and ordering are in test_ws_hub.py."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

from tradeloom.gateway_auth.channels import parse_channel
from tradeloom.gateway_auth.feed import StreamItem
from tradeloom.gateway_auth.live_hub import Follower, LiveFeed
from tradeloom.shared.subjects import Subjects

SUBJECTS = Subjects("t0")


def follower(channel: str, user_id: str, got: list[StreamItem]) -> Follower:
    return Follower(parse_channel(channel, SUBJECTS, "sim"), user_id, got.append)


def envelope(event: str, **data: Any) -> bytes:
    return json.dumps({"type": f"tradeloom.{event}.v1", "data": data}).encode()


def test_private_events_reach_their_owners_channels_only() -> None:
    feed = LiveFeed("ORDERS", (SUBJECTS.event_filter("orders"),))
    alice_orders: list[StreamItem] = []
    alice_fills: list[StreamItem] = []
    alice_orders_2: list[StreamItem] = []  # her second socket
    bob_orders: list[StreamItem] = []
    for made in (
        follower("orders", "alice", alice_orders),
        follower("fills", "alice", alice_fills),
        follower("orders", "alice", alice_orders_2),
        follower("orders", "bob", bob_orders),
    ):
        feed.add(made)
    feed.dispatch(1, envelope("orders.order_placed", user_id="alice", order_id="a1"), None)
    feed.dispatch(2, envelope("orders.order_placed", user_id="bob", order_id="b1"), None)
    feed.dispatch(3, envelope("orders.fill_recorded", user_id="alice", fill_id="f1"), None)
    feed.dispatch(4, envelope("orders.order_placed", order_id="nobody"), None)  # no owner
    feed.dispatch(5, envelope("orders.order_placed", user_id=7, order_id="odd"), None)  # not an id
    feed.dispatch(6, b"not json", None)
    feed.dispatch(7, json.dumps({"type": "x", "data": [1]}).encode(), None)
    assert [(i.channel, i.seq, i.event["data"]["order_id"]) for i in alice_orders] == [("orders", 1, "a1")]
    assert [i.seq for i in alice_orders_2] == [1]
    assert alice_orders[0] is alice_orders_2[0]  # one item (and one wire text) per channel
    assert [(i.channel, i.seq) for i in alice_fills] == [("fills", 3)]
    assert [i.seq for i in bob_orders] == [2]
    message = json.loads(alice_orders[0].text())
    assert (message["type"], message["stream"], message["seq"]) == ("event", "ORDERS", 1)


def test_public_events_reach_every_follower_and_one_failure_stops_none() -> None:
    feed = LiveFeed("MD_TRADES", ("t0.md.evt.trade.v1.sim.BTC-USDT",))
    got: list[list[StreamItem]] = [[] for _ in range(3)]
    followers = [follower("prices.BTC/USDT", f"user-{n}", got[n]) for n in range(3)]

    def broken(_: StreamItem) -> None:
        raise RuntimeError("this socket is gone")

    feed.add(Follower(followers[0].channel, "user-x", broken))
    for made in followers:
        feed.add(made)
    feed.dispatch(9, envelope("md.trade", venue="sim", symbol="BTC/USDT"), None)
    assert [[i.seq for i in items] for items in got] == [[9], [9], [9]]
    assert feed.followers() == 4
    for made in followers:
        assert feed.remove(made)
        assert not feed.remove(made)  # a second removal is a no-op
    assert feed.followers() == 1


def test_repeats_of_a_reset_consumer_are_dropped() -> None:
    feed = LiveFeed("RISK", (SUBJECTS.event_filter("risk"),))
    got: list[StreamItem] = []
    feed.add(follower("positions", "alice", got))
    feed.last_seq = 10  # where the feed started (the stream's last sequence then)

    def msg(seq: int) -> Any:
        raw = envelope("risk.position_changed", user_id="alice", symbol="BTC/USDT")
        return SimpleNamespace(
            data=raw,
            headers=None,
            subject="s",
            metadata=SimpleNamespace(sequence=SimpleNamespace(stream=seq)),
        )

    for seq in (3, 10, 11, 12, 11, 12, 13):  # a consumer recreated at 1, then again at 11
        asyncio.run(feed._on_message(msg(seq)))
    assert [i.seq for i in got] == [11, 12, 13]
    assert feed.dropped == 4
