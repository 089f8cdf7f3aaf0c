"""Schedules over real NATS and Postgres: validation, ownership, missed-firing policies, and one
firing run once across two replicas. backtest-engine is a stand-in on its request subject that
counts the submissions it accepts (an action's effect)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from bots_harness import BotsEnv, eventually, new_bot
from nats.aio.client import Client
from nats.aio.msg import Msg
from sqlalchemy import text
from sr_caller import Caller, fields

from tradeloom.shared.db import create_engine
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port
from tradeloom.strategy_runner import app
from tradeloom.strategy_runner.settings import StrategyRunnerSettings

BACKTEST = {"strategy": "sma_cross", "symbol": "BTC/USDT"}


class BacktestStandin:
    """``svc.backtest-engine.submit``: accepts every submission with a new id and keeps it."""

    def __init__(self) -> None:
        self.accepted: list[tuple[str, str]] = []  # (user, backtest id)

    async def answer(self, msg: Msg) -> None:
        backtest_id = str(uuid.uuid4())
        self.accepted.append((msg.headers.get("tl-user-id", "") if msg.headers else "", backtest_id))
        await msg.respond(json.dumps({"data": {"backtest_id": backtest_id, "status": "queued"}}).encode())


@pytest.fixture
async def replicas(
    sr_schema: str, database_url: str, nats_url: str, nats_prefix: str, nc: Client
) -> AsyncIterator[tuple[Caller, BacktestStandin]]:
    """Two strategy-runner replicas on one schema, ticking fast, and the backtest stand-in."""
    subjects = Subjects(nats_prefix)
    standin = BacktestStandin()
    sub = await nc.subscribe(subjects.request("backtest-engine", "submit"), cb=standin.answer)
    runtimes = [
        app.build(
            StrategyRunnerSettings(
                database_url=database_url, nats_url=nats_url, nats_prefix=nats_prefix, db_schema=sr_schema,
                environment="test", health_port=free_port(), schedule_tick_s=0.1, schedule_grace_s=5,
            )
        )
        for _ in range(2)
    ]  # fmt: skip
    for runtime in runtimes:
        await runtime.start()
    try:
        yield Caller(ServiceClient(nc, subjects), "alice"), standin
    finally:
        for runtime in runtimes:
            await runtime.stop()
        await sub.unsubscribe()


async def test_schedule_validation_and_ownership(alice: Caller) -> None:
    base: dict[str, Any] = {
        "name": "nightly",
        "cron": "0 2 * * *",
        "action": {"kind": "backtest", "backtest": BACKTEST},
    }
    cases = [
        ({**base, "cron": "0 25 * * *"}, "cron"),
        ({**base, "interval_s": 60}, "cron"),
        ({**base, "timezone": "Nowhere/Land"}, "timezone"),
        ({**base, "action": {"kind": "bot_start"}}, "action.bot_id"),
        ({**base, "action": {"kind": "backtest"}}, "action.backtest"),
        ({**base, "action": {"kind": "backtest", "backtest": {"fill": "never"}}}, "action.backtest.fill"),
        ({**base, "missed": "sometimes"}, "missed"),
    ]
    for body, field in cases:
        error = await alice.error("schedules_create", body)
        assert error.code == "validation_error" and field in fields(error), (body, error.details)
    unknown_bot = await alice.error(
        "schedules_create", {**base, "action": {"kind": "bot_stop", "bot_id": "x"}}
    )
    assert unknown_bot.code == "not_found" and fields(unknown_bot) == ["action.bot_id"]

    made = await alice("schedules_create", {**base, "timezone": "Asia/Tokyo"})
    assert (
        made["enabled"]
        and made["next_run_at"] is not None
        and made["action"]["backtest"]["strategy"] == "sma_cross"
    )
    schedule = {"schedule_id": made["schedule_id"]}
    for op in ("schedules_get", "schedules_runs", "schedules_delete"):
        assert (await alice.as_user("mallory").error(op, schedule)).code == "not_found"
    disabled = await alice("schedules_enable", {**schedule, "enabled": False})
    assert not disabled["enabled"] and disabled["next_run_at"] is None
    assert [s["schedule_id"] for s in (await alice("schedules_list"))["items"]] == [made["schedule_id"]]
    assert (await alice("schedules_runs", schedule))["items"] == []
    assert (await alice("schedules_delete", schedule))["deleted"]
    assert (await alice.error("schedules_get", schedule)).code == "not_found"


async def test_a_firing_runs_once_across_two_replicas(replicas: tuple[Caller, BacktestStandin]) -> None:
    sr, standin = replicas
    made = await sr(
        "schedules_create",
        {"name": "every second", "interval_s": 1, "action": {"kind": "backtest", "backtest": BACKTEST}},
    )
    schedule = {"schedule_id": made["schedule_id"], "limit": 200}

    async def five_runs() -> bool:
        runs = (await sr("schedules_runs", schedule))["items"]
        return sum(r["outcome"] == "succeeded" for r in runs) >= 5

    await eventually(five_runs)
    await sr("schedules_enable", {"schedule_id": made["schedule_id"], "enabled": False})

    async def settled() -> bool:
        return all(r["outcome"] != "running" for r in (await sr("schedules_runs", schedule))["items"])

    await eventually(settled)
    runs = (await sr("schedules_runs", schedule))["items"]
    slots = [r["scheduled_for"] for r in runs]
    assert len(slots) == len(set(slots))  # one run per firing
    ran = [r["backtest_id"] for r in runs if r["outcome"] == "succeeded"]
    assert sorted(ran) == sorted(b for _, b in standin.accepted)  # each submission is one run's
    assert {user for user, _ in standin.accepted} == {"alice"}  # submitted as the owner


@pytest.mark.parametrize(("policy", "ran"), [("skip", 0), ("run_once", 1)])
async def test_firings_missed_while_down_are_skipped_or_run_once(
    replicas: tuple[Caller, BacktestStandin], database_url: str, sr_schema: str, policy: str, ran: int
) -> None:
    sr, standin = replicas
    made = await sr(
        "schedules_create",
        {
            "name": "hourly",
            "interval_s": 3600,
            "missed": policy,
            "action": {"kind": "backtest", "backtest": BACKTEST},
        },
    )
    engine = create_engine(database_url, pooled=False)
    try:  # as if no replica had run for 3.5 hours: firings at -3.5h, -2.5h, -1.5h, -0.5h
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    f"UPDATE \"{sr_schema}\".schedules SET anchor = now() - interval '210 minutes', "
                    "next_run_at = now() - interval '210 minutes' WHERE id = :id"
                ),
                {"id": uuid.UUID(made["schedule_id"])},
            )
    finally:
        await engine.dispose()
    schedule = {"schedule_id": made["schedule_id"]}

    async def handled() -> bool:
        runs = (await sr("schedules_runs", schedule))["items"]
        return any(r["outcome"] == "skipped" for r in runs) and all(r["outcome"] != "running" for r in runs)

    await eventually(handled)
    runs = (await sr("schedules_runs", schedule))["items"]
    skipped = [r for r in runs if r["outcome"] == "skipped"]
    assert len(skipped) == 1 and f"{4 - ran} firing(s) missed" in skipped[0]["detail"]
    assert sum(r["outcome"] == "succeeded" for r in runs) == ran == len(standin.accepted)
    info = await sr("schedules_get", schedule)
    newest = datetime.fromisoformat(runs[0]["scheduled_for"])
    assert datetime.fromisoformat(info["next_run_at"]) - newest == timedelta(hours=1)  # the one after now


async def test_a_schedule_stops_its_owners_bot(bots_env: BotsEnv) -> None:
    env = bots_env
    bot_id, _ = await new_bot(env.sr, env.orders)
    made = await env.sr(
        "schedules_create",
        {"name": "stop", "interval_s": 1, "action": {"kind": "bot_stop", "bot_id": bot_id}},
    )
    schedule = {"schedule_id": made["schedule_id"]}

    async def stopped() -> bool:
        return (await env.sr("bots_get", {"bot_id": bot_id}))["status"] == "stopped"

    await eventually(stopped)
    await env.sr("schedules_enable", {**schedule, "enabled": False})

    async def settled() -> bool:
        runs = (await env.sr("schedules_runs", schedule))["items"]
        return all(run["outcome"] != "running" for run in runs)

    await eventually(settled)
    runs = (await env.sr("schedules_runs", schedule))["items"]
    # the run that stopped the bot (on a slow box the firings the scheduler fell behind on come
    # before it, recorded as skipped by the schedule's missed-run policy)
    assert ("succeeded", f"bot {bot_id} stopped") in [(run["outcome"], run["detail"]) for run in runs]


async def test_a_run_left_running_by_a_dead_replica_is_retried_once(
    replicas: tuple[Caller, BacktestStandin], database_url: str, sr_schema: str
) -> None:
    sr, standin = replicas
    made = await sr(
        "schedules_create",
        {"name": "orphans", "interval_s": 3600, "action": {"kind": "backtest", "backtest": BACKTEST}},
    )
    engine = create_engine(database_url, pooled=False)
    try:  # two firings claimed an hour ago by a replica that died: one tried once, one twice
        async with engine.begin() as conn:
            for hours, attempts in ((2, 1), (3, 2)):
                await conn.execute(
                    text(
                        f'INSERT INTO "{sr_schema}".schedule_runs (schedule_id, scheduled_for, claimed_by, '
                        "outcome, started_at, attempts) VALUES (:id, now() - make_interval(hours => :h), "
                        "'dead-replica', 'running', now() - interval '1 hour', :n)"
                    ),
                    {"id": uuid.UUID(made["schedule_id"]), "h": hours, "n": attempts},
                )
    finally:
        await engine.dispose()
    schedule = {"schedule_id": made["schedule_id"]}

    async def handled() -> bool:
        runs = (await sr("schedules_runs", schedule))["items"]
        return len(runs) == 2 and all(r["outcome"] != "running" for r in runs)

    await eventually(handled)
    retried, exhausted = (await sr("schedules_runs", schedule))["items"]  # newest firing first
    assert retried["outcome"] == "succeeded" and retried["detail"].startswith("retried")
    assert retried["backtest_id"] == standin.accepted[0][1] and len(standin.accepted) == 1
    assert exhausted["outcome"] == "failed"
    assert exhausted["detail"] == "the replica dead-replica died while running it, 2 attempt(s)"
