"""kill -9 of strategy-runner (a real subprocess) in the middle of a candle stream, then a new
process: the dead replica's lease expires, the new one takes the bot over, catches up on the bars
closed meanwhile, and the crossing bar's order reaches order-router exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bots_harness import (
    PRICES,
    Market,
    approve_risk,
    crossing_bar,
    decisions,
    eventually,
    new_bot,
    trading_stack,
)
from nats.aio.client import Client
from runner_process import RunnerProcess, runner_env, scalar
from sr_caller import Caller

from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port


@dataclass
class World:
    sr: Caller
    orders: Caller
    market: Market
    env: dict[str, str]
    logs: Path
    runners: list[RunnerProcess] = field(default_factory=list)

    def replica(self) -> RunnerProcess:
        """A new strategy-runner process (its own health port), started."""
        env = self.env | {"TL_STRATEGY_RUNNER_HEALTH_PORT": str(free_port())}
        runner = RunnerProcess(env, self.logs / f"strategy-runner-{len(self.runners)}.log")
        self.runners.append(runner)
        runner.start()
        return runner

    async def lease_owner(self, bot_id: str) -> str:
        query = 'SELECT owner FROM "{s}".bot_leases WHERE bot_id::text = :b'
        return str(await scalar(self.env, query, b=bot_id))


@pytest.fixture
async def world(
    sr_schema: str, database_url: str, nats_url: str, nats_prefix: str, nc: Client, pg_server: Any,
    tmp_path: Path,
) -> AsyncIterator[World]:  # fmt: skip
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    risk = await approve_risk(nc, subjects)
    env = runner_env(database_url, nats_url, nats_prefix, sr_schema, BOT_LEASE_TTL_S="3", BOT_TICK_S="0.2")
    client = ServiceClient(nc, subjects)
    world = World(
        Caller(client, "alice"),
        Caller(client, "alice", "order-router"),
        Market.recent(nc, subjects),
        env,
        tmp_path,
    )
    try:
        async with trading_stack(pg_server, database_url, nats_url, nats_prefix):
            yield world
    finally:
        for runner in world.runners:
            runner.stop()
        await risk.unsubscribe()


async def ping(sr: Caller) -> str | None:
    try:
        return str((await sr("ping"))["instance_id"])
    except ServiceError:
        return None


async def answering(sr: Caller, not_: str | None = None) -> str:
    """The instance id of a replica answering ping (one other than ``not_``)."""
    seen: list[str] = []

    async def other() -> bool:
        instance = await ping(sr)
        if instance is not None and instance != not_:
            seen.append(instance)
        return bool(seen)

    await eventually(other)
    return seen[0]


async def until_decided(world: World, bot_id: str, index: int) -> None:
    async def decided() -> bool:
        bot = await world.sr("bots_get", {"bot_id": bot_id})
        return bool(bot["last_bar_ns"] == world.market.bar_ns(index))

    await eventually(decided)


async def one_filled_order(world: World, bot_id: str, account_id: str, cross: int) -> None:
    """The crossing bar's order reached order-router once and filled on the next trade."""

    async def ordered() -> bool:
        return any(d["action"] == "buy" and d["order_id"] for d in await decisions(world.sr, bot_id))

    await eventually(ordered)
    await world.market.trade_now(PRICES[cross + 2])

    async def long() -> bool:
        return (await world.sr("bots_get", {"bot_id": bot_id}))["position"] == "1"

    await eventually(long)
    listed = await world.orders("orders_list", {"account_id": account_id})
    assert [(o["side"], o["status"]) for o in listed["items"]] == [("buy", "filled")]
    log = await decisions(world.sr, bot_id)
    assert len({d["bar_ns"] for d in log}) == len(log)


async def test_kill_9_mid_stream_then_restart_sends_the_order_once_and_takes_the_lease(world: World) -> None:
    first = world.replica()
    first_id = await answering(world.sr)
    bot_id, account_id = await new_bot(world.sr, world.orders)
    cross = crossing_bar()
    await world.market.bars(0, cross - 1)  # closes bars up to cross-2
    await until_decided(world, bot_id, cross - 2)
    first.kill()
    await world.market.bars(cross, cross + 1)  # closes the crossing bar while no replica runs
    world.replica()
    second_id = await answering(world.sr, not_=first_id)
    await one_filled_order(world, bot_id, account_id, cross)
    assert await world.lease_owner(bot_id) == second_id


async def test_two_replicas_the_lease_holder_killed_the_other_takes_the_bot_over(world: World) -> None:
    first = world.replica()
    first_id = await answering(world.sr)
    bot_id, account_id = await new_bot(world.sr, world.orders)
    cross = crossing_bar()
    await world.market.bars(0, cross - 1)
    await until_decided(world, bot_id, cross - 2)
    assert await world.lease_owner(bot_id) == first_id
    world.replica()  # a second replica, running alongside: the lease stays with the first
    second_id = await answering(world.sr, not_=first_id)
    assert await world.lease_owner(bot_id) == first_id
    first.kill()
    await world.market.bars(cross, cross + 1)  # the survivor consumes these candles
    await one_filled_order(world, bot_id, account_id, cross)
    assert await world.lease_owner(bot_id) == second_id
