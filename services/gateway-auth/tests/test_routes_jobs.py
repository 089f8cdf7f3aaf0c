"""``GET /v1/jobs`` through the gateway with the REAL strategy-runner, backtest-engine and
market-data: a backtest and a schedule's runs in one list; sandbox-executor is not running, so it
is named as unavailable instead of failing the view."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from backends import backtest_engine_runtime, market_data_runtime, strategy_runner_runtime
from gateway_testkit import Api, ApiFactory
from nats.aio.client import Client as NatsClient
from test_routes_backtests import finished, upload

from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects


@pytest.fixture
async def jobs_api(
    make_api: ApiFactory, nc: NatsClient, nats_prefix: str, pg_server: Any, database_url: str, nats_url: str
) -> AsyncIterator[Api]:
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    api = await make_api(rate_backtests_capacity=100)
    async with (
        strategy_runner_runtime(pg_server, database_url, nats_url, nats_prefix, schedule_tick_s=0.2),
        market_data_runtime(pg_server, database_url, nats_url, nats_prefix),
        backtest_engine_runtime(pg_server, database_url, nats_url, nats_prefix),
    ):
        yield api


async def test_jobs_list_a_users_backtests_and_scheduled_runs(jobs_api: Api) -> None:
    api = jobs_api
    _, bob = await api.user()
    _, alice = await api.user()
    dataset_id = await upload(api, bob)
    body = {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}, "dataset_id": dataset_id}
    accepted = await api.http.post("/v1/backtests", headers=bob, json=body)
    assert accepted.status_code == 202, accepted.text
    backtest_id = accepted.json()["backtest_id"]
    assert (await finished(api, bob, backtest_id))["status"] == "completed"
    schedule = await api.http.post(
        "/v1/schedules",
        headers=bob,
        json={"name": "often", "interval_s": 1, "action": {"kind": "backtest", "backtest": body}},
    )
    assert schedule.status_code == 201, schedule.text
    schedule_id = schedule.json()["schedule_id"]

    async def jobs() -> dict[str, Any]:
        listed = await api.http.get("/v1/jobs", headers=bob, params={"limit": 50})
        assert listed.status_code == 200, listed.text
        return dict(listed.json())

    for _ in range(600):  # until the schedule has fired and its run finished
        got = await jobs()
        if any(j["kind"] == "scheduled_run" and j["status"] == "succeeded" for j in got["items"]):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the schedule did not run")
    assert (
        await api.http.post(f"/v1/schedules/{schedule_id}/enabled", headers=bob, json={"enabled": False})
    ).status_code == 200
    assert got["unavailable"] == ["sandbox-executor"]
    mine = next(j for j in got["items"] if j["job_id"] == backtest_id)
    assert (mine["kind"], mine["status"], mine["href"]) == (
        "backtest",
        "succeeded",
        f"/v1/backtests/{backtest_id}",
    )
    run = next(j for j in got["items"] if j["kind"] == "scheduled_run")
    assert run["job_id"] == schedule_id and run["detail"].startswith("backtest ")
    stamps = [j["created_at"] for j in got["items"]]
    assert stamps == sorted(stamps, reverse=True)
    # another user's view holds none of it
    theirs = (await api.http.get("/v1/jobs", headers=alice)).json()
    assert theirs["items"] == []
    bad = await api.http.get("/v1/jobs", headers=bob, params={"limit": 0})
    assert bad.status_code == 422
