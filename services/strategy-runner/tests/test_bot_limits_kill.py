"""kill -9 of strategy-runner (a real subprocess) between a bot create's put of its risk limits at
the real risk-monitor and the bot's insert: no bot, the limits at risk-monitor, a removal row; the
next process's sweep removes them, once, and nothing is left (``bots/limit_removals.py``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bots_harness import PARAMS, approve_risk, eventually, service_runtime, trading_stack
from nats.aio.client import Client
from nats.aio.msg import Msg
from runner_process import RunnerProcess, runner_env, scalar
from sr_caller import Caller
from test_bot_risk_limits import LIMITS, bot_body

from tradeloom.risk_monitor import app as rm_app
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared.errors import ServiceError, Timeout, Unavailable
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port


@dataclass
class World:
    sr: Caller
    orders: Caller
    risk: Caller
    nc: Client
    subjects: Subjects
    env: dict[str, str]
    logs: Path

    def replica(self) -> RunnerProcess:
        env = self.env | {"TL_STRATEGY_RUNNER_HEALTH_PORT": str(free_port())}
        runner = RunnerProcess(env, self.logs / f"strategy-runner-{free_port()}.log")
        runner.start()
        return runner

    async def count(self, table: str) -> int:
        return int(await scalar(self.env, f'SELECT count(*) FROM "{{s}}".{table}'))


@pytest.fixture
async def world(
    sr_schema: str, database_url: str, nats_url: str, nats_prefix: str, nc: Client, pg_server: Any,
    tmp_path: Path,
) -> AsyncIterator[World]:  # fmt: skip
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    check = await approve_risk(nc, subjects)
    env = runner_env(
        database_url, nats_url, nats_prefix, sr_schema, RISK_MONITOR_TIMEOUT_S="10", RISK_LIMITS_SWEEP_S="0.5"
    )
    client = ServiceClient(nc, subjects)
    risk = service_runtime(rm_app, RiskMonitorSettings, pg_server, database_url, nats_url, nats_prefix)
    async with trading_stack(pg_server, database_url, nats_url, nats_prefix), risk:
        yield World(
            Caller(client, "alice"), Caller(client, "alice", "order-router"),
            Caller(client, "alice", "risk-monitor"), nc, subjects, env, tmp_path,
        )  # fmt: skip
    await check.unsubscribe()


async def answering(sr: Caller) -> None:
    async def pong() -> bool:
        try:
            await sr("ping")
        except ServiceError:
            return False
        return True

    await eventually(pong)


async def test_kill_9_between_the_put_and_the_insert_leaves_no_orphan_limits(world: World) -> None:
    first = world.replica()
    await answering(world.sr)
    account_id = (await world.orders("accounts_create", {"name": "bots"}))["account_id"]
    strategy = await world.sr(
        "strategies_create", {"name": "cross", "template": "sma_cross", "params": PARAMS}
    )
    put: list[dict[str, Any]] = []

    async def kill_at_the_put(msg: Msg) -> None:  # sees the put as risk-monitor does: kill now
        put.append(json.loads(msg.data))
        first.kill()

    spy = await world.nc.subscribe(world.subjects.request("risk-monitor", "limits_put"), cb=kill_at_the_put)
    try:
        body = bot_body(account_id, strategy["strategy_id"], risk_limits=LIMITS)
        with pytest.raises((Timeout, Unavailable)):  # no answer: the process is gone
            await world.sr("bots_create", body)
    finally:
        await spy.unsubscribe()
    bot_id = put[0]["bot_id"]

    async def stored() -> bool:  # risk-monitor applied the put the dead process sent
        got = await world.risk("limits_get", {"account_id": account_id, "bot_id": bot_id})
        return got["updated_at"] is not None

    await eventually(stored)
    assert await world.count("bots") == 0  # killed in the window: no bot, its limits orphaned
    assert await world.count("bot_limit_removals") == 1

    second = world.replica()
    try:
        await answering(world.sr)

        async def swept() -> bool:
            return await world.count("bot_limit_removals") == 0

        await eventually(swept)
        got = await world.risk("limits_get", {"account_id": account_id, "bot_id": bot_id})
        assert got["updated_at"] is None
        changes = (await world.risk("limit_changes", {"account_id": account_id}))["items"]
        assert [(c["bot_id"], c["action"]) for c in changes] == [(bot_id, "delete"), (bot_id, "put")]
        assert (await world.sr("bots_list"))["items"] == []
        # a create on the new process registers its bot's limits as before: nothing left to sweep
        bot = await world.sr("bots_create", bot_body(account_id, strategy["strategy_id"], risk_limits=LIMITS))
        got = await world.risk("limits_get", {"account_id": account_id, "bot_id": bot["bot_id"]})
        assert got["max_order_notional"] == "50"
        assert await world.count("bot_limit_removals") == 0
    finally:
        second.stop()
