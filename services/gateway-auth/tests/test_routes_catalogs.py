"""``/v1/templates``, ``/v1/indicators`` and ``/v1/indicators/compute`` through the gateway with the
REAL strategy-runner and market-data (an indicator over an uploaded dataset)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from backends import market_data_runtime, strategy_runner_runtime
from gateway_testkit import Api, ApiFactory
from nats.aio.client import Client as NatsClient
from test_routes_backtests import BARS, fields, upload

from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects


@pytest.fixture
async def catalog_api(
    make_api: ApiFactory, nc: NatsClient, nats_prefix: str, pg_server: Any, database_url: str, nats_url: str
) -> AsyncIterator[Api]:
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    api = await make_api()
    async with (
        strategy_runner_runtime(pg_server, database_url, nats_url, nats_prefix),
        market_data_runtime(pg_server, database_url, nats_url, nats_prefix),
    ):
        yield api


async def test_catalogs_and_an_indicator_over_a_dataset(catalog_api: Api) -> None:
    api = catalog_api
    _, bob = await api.user()
    _, alice = await api.user()
    templates = await api.http.get("/v1/templates", headers=bob)
    assert templates.status_code == 200, templates.text
    sma_cross = next(t for t in templates.json()["items"] if t["name"] == "sma_cross")
    assert {p["name"] for p in sma_cross["params"]} >= {"fast", "slow"}
    indicators = await api.http.get("/v1/indicators", headers=bob)
    assert indicators.status_code == 200, indicators.text
    assert next(i for i in indicators.json()["items"] if i["name"] == "macd")["outputs"] == [
        "macd", "signal", "histogram",
    ]  # fmt: skip
    assert (await api.http.get("/v1/indicators")).status_code == 401

    dataset_id = await upload(api, bob)
    body = {"indicator": "rsi", "dataset_id": dataset_id, "params": {"window": 5}}
    series = await api.http.post("/v1/indicators/compute", headers=bob, json=body)
    assert series.status_code == 200, series.text
    data = series.json()
    assert len(data["open_ns"]) == BARS and data["open_ns"] == sorted(data["open_ns"])
    values = data["outputs"]["value"]
    assert len(values) == BARS and values[:5] == [None] * 5
    assert all(0 <= v <= 100 for v in values[5:])
    # another user's dataset is not found; bad input names the public field
    assert (await api.http.post("/v1/indicators/compute", headers=alice, json=body)).status_code == 404
    bad = await api.http.post("/v1/indicators/compute", headers=bob, json=body | {"params": {"window": -1}})
    assert bad.status_code == 422 and fields(bad) == ["body.params.window"], bad.text
    neither = await api.http.post("/v1/indicators/compute", headers=bob, json={"indicator": "sma"})
    assert neither.status_code == 422 and fields(neither) == ["body.symbol"], neither.text
