"""Backtests on an uploaded dataset, against a real market-data runtime (its own migrated schema)
on the same NATS and Postgres: submit → completed, equal to the simulator run directly."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tradeloom.backtest_engine.domain.run_plan import plan_run, with_bars
from tradeloom.backtest_engine.domain.simulation import BarArrays, run_backtest
from tradeloom.market_data import app as md_app
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service

HOUR_NS = 3_600 * 10**9
Harness = Any


@pytest.fixture
def walk(make_walk: Any) -> dict[str, Any]:
    return make_walk(300, seed=11)


def walk_csv(bars: dict[str, Any]) -> str:
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(len(bars["time"])):
        values = (repr(float(bars[k][i])) for k in ("open", "high", "low", "close", "volume"))
        lines.append(f"{int(bars['time'][i]) // 10**6},{','.join(values)}")
    return "\n".join(lines) + "\n"


@pytest.fixture
async def market_data(
    harness: Harness, pg_server: Any, database_url: str, nats_url: str, nats_prefix: str
) -> AsyncIterator[None]:
    """market-data's own runtime (``build()``), migrated into a second fresh schema."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.execute(f'CREATE SCHEMA "{schema}"')
    await migrate_service(md_app, database_url, schema)
    settings = MarketDataSettings(
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=nats_prefix,
        db_schema=schema,
        environment="test",
        health_port=free_port(),
        sim_symbols=[],
    )
    runtime = md_app.build(settings)
    await runtime.start()
    try:
        yield
    finally:
        await runtime.stop()
        pg_server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def upload(harness: Harness, name: str, text: str, user: str = "alice") -> str:
    caller = CallerContext(user_id=user)
    client = harness.client()
    started = await client.call_raw("market-data", "datasets_upload_begin", {"name": name}, caller=caller)
    pieces = [text[i : i + 400_000] for i in range(0, len(text), 400_000)]
    for seq, piece in enumerate(pieces):
        body = {"upload_id": started["upload_id"], "seq": seq, "data": piece}
        await client.call_raw("market-data", "datasets_upload_chunk", body, caller=caller)
    done = await client.call_raw(
        "market-data", "datasets_upload_commit", {"upload_id": started["upload_id"]}, caller=caller
    )
    return str(done["dataset_id"])


def dataset_body(harness: Harness, dataset_id: str, **overrides: Any) -> dict[str, Any]:
    body = harness.body(dataset_id=dataset_id, **overrides)
    for field in ("symbol", "timeframe", "start", "end"):
        if field not in overrides:
            body.pop(field)
    return body


async def test_backtest_on_an_uploaded_dataset_equals_the_simulator(
    harness: Harness, market_data: None, walk: dict[str, Any]
) -> None:
    await harness.start_service(candles_page_size=100)  # 300 bars: three pages
    dataset_id = await upload(harness, "walk-1h", walk_csv(walk))
    body = dataset_body(harness, dataset_id)
    reply = await harness.call("submit", body)
    completed = await harness.events.wait_for(reply["backtest_id"], "completed")
    status = await harness.call("status", {"backtest_id": reply["backtest_id"]})
    assert status["dataset_id"] == dataset_id and status["symbol"] is None and status["kind"] == "backtest"

    bars = BarArrays(walk["time"], walk["open"], walk["high"], walk["low"], walk["close"], walk["volume"])
    plan = with_bars(plan_run(SubmitBacktest.model_validate(body)), bars.time, HOUR_NS)
    expected = run_backtest(plan, bars)
    results = await harness.call("results", {"backtest_id": reply["backtest_id"]})
    assert completed.data["bar_count"] == 300 == results["bar_count"]
    assert results["trade_count"] == expected.trades.shape[0] > 0
    assert float(results["final_equity"]) == float(expected.equity[-1])
    assert results["metrics"]["sharpe"] == pytest.approx(expected.metrics["sharpe"], rel=1e-12)
    assert results["annualisation"] == {  # 300 gap-free hours: exactly 8,760 bars a year
        "periods_per_year": 8760.0, "source": "inferred", "years": 300 / 8760, "year_days": 365,
        "bar_ns": HOUR_NS,
    }  # fmt: skip

    cut = dataset_body(harness, dataset_id, start="2024-01-02T00:00:00Z", end="2024-01-05T00:00:00Z")
    ranged = await harness.call("submit", cut)
    assert (await harness.events.wait_for(ranged["backtest_id"], "completed")).data["bar_count"] == 73


async def test_another_users_dataset_is_refused_at_submit_like_an_unknown_one(
    harness: Harness, market_data: None, walk: dict[str, Any]
) -> None:
    await harness.start_service()
    dataset_id = await upload(harness, "mine", walk_csv(walk), user="alice")

    async def refusal(dataset: str, user: str) -> RemoteError:
        with pytest.raises(RemoteError) as caught:
            await harness.call("submit", dataset_body(harness, dataset), user=user)
        return caught.value

    foreign = await refusal(dataset_id, "bob")
    unknown = await refusal(str(uuid.uuid4()), "bob")
    for error in (foreign, unknown):
        assert error.code == "validation_error", error
        assert error.details["fields"] == [{"field": "dataset_id", "message": "no such dataset of yours"}]
    assert foreign.message == unknown.message
    assert (await harness.call("list", {}, user="bob"))["items"] == []  # nothing was queued
