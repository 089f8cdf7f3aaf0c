"""/v1/backtests/* end to end: the gateway app in-process, REAL backtest-engine and market-data
runtimes (their ``build()``, own migrated schemas) on the same NATS and Postgres; backtests run on
a dataset uploaded through the gateway. A slow fake for the 504."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from backends import backtest_engine_runtime, market_data_runtime
from gateway_testkit import Api, ApiFactory
from nats.aio.client import Client as NatsClient
from test_routes_market_data import bars_csv

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.backtest import BacktestRef, BacktestSummary
from tradeloom.shared.rpc import Operation, serve
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects

BARS = 300


@pytest.fixture
async def bt_api(
    make_api: ApiFactory, nc: NatsClient, nats_prefix: str, pg_server: Any, database_url: str, nats_url: str
) -> AsyncIterator[Api]:
    """Gateway + market-data + backtest-engine (each on its own schema)."""
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    api = await make_api(rate_code_capacity=100, rate_backtests_capacity=100)
    async with (
        market_data_runtime(pg_server, database_url, nats_url, nats_prefix),
        backtest_engine_runtime(pg_server, database_url, nats_url, nats_prefix),
    ):
        yield api


async def upload(api: Api, session: dict[str, str], name: str = "walk") -> str:
    made = await api.http.post("/v1/datasets", headers=session, params={"name": name}, content=bars_csv(BARS))
    assert made.status_code == 201, made.text
    return str(made.json()["dataset_id"])


def submit_body(dataset_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}, "dataset_id": dataset_id}
    return body | overrides


async def finished(api: Api, session: dict[str, str], backtest_id: str) -> dict[str, Any]:
    for _ in range(300):
        response = await api.http.get(f"/v1/backtests/{backtest_id}", headers=session)
        assert response.status_code == 200, response.text
        if response.json()["status"] in {"completed", "failed", "cancelled"}:
            return dict(response.json())
        await asyncio.sleep(0.05)
    raise AssertionError("the backtest did not finish")


async def run(api: Api, session: dict[str, str], body: dict[str, Any]) -> str:
    accepted = await api.http.post("/v1/backtests", headers=session, json=body)
    assert accepted.status_code == 202, accepted.text
    backtest_id = str(accepted.json()["backtest_id"])
    done = await finished(api, session, backtest_id)
    assert done["status"] == "completed", done
    return backtest_id


def fields(response: Any) -> list[str]:
    return [f["field"] for f in response.json()["details"].get("fields", [])]


async def test_backtest_lifecycle_results_export_list_compare_optimisation(bt_api: Api) -> None:
    api = bt_api
    _, session = await api.user()
    get = api.http.get
    dataset_id = await upload(api, session)
    keyed = {**session, "Idempotency-Key": "bt-1"}
    accepted = await api.http.post("/v1/backtests", headers=keyed, json=submit_body(dataset_id))
    assert accepted.status_code == 202 and accepted.json()["status"] == "queued", accepted.text
    replay = await api.http.post("/v1/backtests", headers=keyed, json=submit_body(dataset_id))
    assert replay.status_code == 202 and replay.json() == accepted.json()
    first = accepted.json()["backtest_id"]
    summary = await finished(api, session, first)
    assert summary["status"] == "completed" and summary["dataset_id"] == dataset_id

    results = (await get(f"/v1/backtests/{first}/results", headers=session)).json()
    assert results["bar_count"] == BARS and results["trade_count"] > 2
    trades, cursor = [], None
    while True:
        page = await get(
            f"/v1/backtests/{first}/trades",
            headers=session,
            params={"limit": 2} | ({"cursor": cursor} if cursor else {}),
        )
        assert page.status_code == 200, page.text
        trades += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert [t["seq"] for t in trades] == list(range(len(trades))) and len(trades) == results["trade_count"]
    curves = (await get(f"/v1/backtests/{first}/equity", headers=session, params={"max_points": 50})).json()
    assert curves["total_points"] == BARS and len(curves["equity"]["t_ns"]) == 50
    held = (await get(f"/v1/backtests/{first}/positions", headers=session, params={"max_points": 50})).json()
    assert held["total_points"] == BARS and len(held["gross_exposure"]["values"]) == 50
    assert set(held["open_trades"]["values"]) <= {0.0, 1.0}

    equity_csv = await get(f"/v1/backtests/{first}/export.csv", headers=session)
    assert equity_csv.status_code == 200 and equity_csv.headers["content-type"].startswith("text/csv")
    lines = equity_csv.text.strip().splitlines()
    assert lines[0] == "time_ns,equity,drawdown" and len(lines) == BARS + 1
    assert int(equity_csv.headers["content-length"]) == len(equity_csv.content)
    trades_csv = await get(f"/v1/backtests/{first}/export.csv", headers=session, params={"kind": "trades"})
    assert len(trades_csv.text.strip().splitlines()) == results["trade_count"] + 1
    daily = (await get(f"/v1/backtests/{first}/daily-pnl", headers=session, params={"limit": 2})).json()
    assert len(daily["items"]) == 2 and daily["next_cursor"] and daily["days"] > 2
    assert daily["profitable_days"] == results["metrics"]["profitable_days"]
    daily_csv = await get(f"/v1/backtests/{first}/export.csv", headers=session, params={"kind": "daily_pnl"})
    assert (
        daily_csv.text.splitlines()[0] == "day,day_ns,pnl"
        and len(daily_csv.text.splitlines()) == daily["days"] + 1
    )
    since = trades[1]["entry_ns"]
    filtered = await get(
        f"/v1/backtests/{first}/trades", headers=session,
        params={"from": str(since), "sort_by": "pnl", "descending": "true", "limit": 200},
    )  # fmt: skip
    assert filtered.status_code == 200, filtered.text
    expected = sorted(
        (t for t in trades if t["entry_ns"] >= since), key=lambda t: (-float(t["pnl"]), -t["seq"])
    )
    assert [t["seq"] for t in filtered.json()["items"]] == [t["seq"] for t in expected]
    bad = await get(f"/v1/backtests/{first}/trades", headers=session, params={"min_pnl": "5", "max_pnl": "1"})
    assert bad.status_code == 422 and fields(bad) == ["query.max_pnl"], bad.text
    backwards = await get(f"/v1/backtests/{first}/trades", headers=session, params={"from": "10", "to": "5"})
    assert backwards.status_code == 422 and fields(backwards) == ["query.from"], backwards.text

    second = await run(api, session, submit_body(dataset_id, params={"fast": 3, "slow": 10}))
    listed = await get("/v1/backtests", headers=session, params={"limit": 1, "status": "completed"})
    assert [i["backtest_id"] for i in listed.json()["items"]] == [second]
    more = await get(
        "/v1/backtests", headers=session, params={"limit": 1, "cursor": listed.json()["next_cursor"]}
    )
    assert [i["backtest_id"] for i in more.json()["items"]] == [first] and more.json()["next_cursor"] is None
    assert (await get("/v1/backtests", headers=session, params={"status": "failed"})).json()["items"] == []
    compared = await get("/v1/backtests/compare", headers=session, params={"ids": f"{first},{second}"})
    assert [i["summary"]["backtest_id"] for i in compared.json()["items"]] == [first, second]
    assert "sharpe" in compared.json()["metric_names"]
    assert (await get(f"/v1/backtests/{first}/optimisation", headers=session)).status_code == 409

    space = {"fast": {"values": [3, 5]}, "slow": {"values": [10, 20, 30]}}
    search = await run(
        api, session, submit_body(dataset_id, optimise={"space": space, "metric": "total_return"})
    )
    best = (await get(f"/v1/backtests/{search}/optimisation", headers=session)).json()
    assert (
        best["kind"] == "search" and best["evaluated"] == 6 and {"fast", "slow"} <= set(best["best_params"])
    )
    rows_url = f"/v1/backtests/{search}/optimisation/rows"
    top = await get(rows_url, headers=session, params={"limit": 4, "sort_by": "total_return"})
    assert top.json()["total"] == 6 and len(top.json()["items"]) == 4, top.text
    assert top.json()["items"][0]["params"] == best["best_params"]
    rest = await get(
        rows_url,
        headers=session,
        params={"limit": 4, "sort_by": "total_return", "cursor": top.json()["next_cursor"]},
    )
    assert len(rest.json()["items"]) == 2 and rest.json()["next_cursor"] is None
    other_order = await get(rows_url, headers=session, params={"cursor": top.json()["next_cursor"]})
    assert other_order.status_code == 422 and fields(other_order) == ["query.cursor"]
    heat = await get(
        f"/v1/backtests/{search}/optimisation/heatmap", headers=session, params={"x": "fast", "y": "slow"}
    )
    assert heat.json()["x_values"] == [3, 5] and heat.json()["y_values"] == [10, 20, 30]
    assert (await get(f"/v1/backtests/{search}/results", headers=session)).status_code == 409

    cancelled = await api.http.post(f"/v1/backtests/{second}/cancel", headers=session)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "completed"  # too late: a no-op
    deleted = await api.http.delete(f"/v1/backtests/{second}", headers=session)
    assert deleted.json() == {"backtest_id": second, "deleted": True}
    assert (await get(f"/v1/backtests/{second}", headers=session)).status_code == 404


async def test_backtest_bad_inputs_scopes_and_failed_runs(bt_api: Api) -> None:
    api = bt_api
    _, session = await api.user()
    post = api.http.post
    dataset_id = await upload(api, session)

    async def refused(body: dict[str, Any], field: str) -> None:
        response = await post("/v1/backtests", headers=session, json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in fields(response), response.text

    await refused(submit_body(dataset_id, strategy="nope"), "body.strategy")
    await refused(submit_body(dataset_id, params={"fast": -3, "slow": 20}), "body.params.fast")
    await refused(submit_body(dataset_id, symbol="BTC/USDT"), "body.dataset_id")
    await refused(submit_body(dataset_id, owner="x"), "body.owner")
    await refused(submit_body(dataset_id, name="a\x00b"), "body.name")
    await refused(submit_body(dataset_id, initial_cash="NaN"), "body.initial_cash")
    space = {"fast": {"min": 1, "max": 5000, "step": 0.5}}
    await refused(submit_body(dataset_id, optimise={"space": space}), "body.optimise.space.fast.step")
    malformed = await post(
        "/v1/backtests", headers={**session, "Content-Type": "application/json"}, content=b"{"
    )
    assert malformed.status_code == 400 and malformed.json()["code"] == "malformed_json"

    too_many = ",".join(f"id{i}" for i in range(11))
    compared = await api.http.get("/v1/backtests/compare", headers=session, params={"ids": too_many})
    assert compared.status_code == 422 and fields(compared) == ["query.ids"]
    bad_cursor = await api.http.get("/v1/backtests", headers=session, params={"cursor": "abc.def"})
    assert bad_cursor.status_code == 422 and fields(bad_cursor) == ["query.cursor"]
    assert (
        await api.http.get("/v1/backtests", headers=session, params={"status": "nope"})
    ).status_code == 422

    key = await post("/v1/api-keys", headers=session, json={"name": "ro", "scopes": ["read"]})
    ro = {"X-API-Key": key.json()["key"]}
    assert (await post("/v1/backtests", headers=ro, json=submit_body(dataset_id))).status_code == 403
    assert (await api.http.get("/v1/backtests", headers=ro)).status_code == 200

    unknown = await post(
        "/v1/backtests",
        headers=session,
        json=submit_body(None, symbol="DOGE/USDT", start="2024-01-01T00:00:00Z", end="2024-01-05T00:00:00Z"),
    )
    assert unknown.status_code == 202, unknown.text
    failed = await finished(api, session, unknown.json()["backtest_id"])
    assert failed["status"] == "failed" and failed["error_code"] == "market_data_not_found"


async def test_user_b_gets_404_on_every_backtest_object_route(bt_api: Api) -> None:
    api = bt_api
    _, bob = await api.user()
    dataset_id = await upload(api, bob)
    space = {"fast": {"values": [3, 5]}, "slow": {"values": [10, 20]}}
    bobs = await run(api, bob, submit_body(dataset_id, optimise={"space": space}))
    _, alice = await api.user()
    openapi = (await api.http.get("/v1/openapi.json")).json()
    routes = [
        (m.upper(), p) for p, ops in openapi["paths"].items() if p.startswith("/v1/backtests/{") for m in ops
    ]
    assert len(routes) == 13  # incl. the SSE events route
    extra = {"/v1/backtests/{backtest_id}/optimisation/heatmap": {"params": {"x": "fast", "y": "slow"}}}
    for method, path in routes:
        url = path.format(backtest_id=bobs)
        response = await api.http.request(method, url, headers=alice, **extra.get(path, {}))
        assert response.status_code == 404, (method, path, response.text)
    compared = await api.http.get("/v1/backtests/compare", headers=alice, params={"ids": bobs})
    assert compared.status_code == 404
    # an id with no events: backtest-engine's record decides (unknown → 404, as for bob's)
    unknown = await api.http.get(f"/v1/backtests/{uuid.uuid4()}/events", headers=bob)
    assert unknown.status_code == 404, unknown.text
    assert (await api.http.get("/v1/backtests", headers=alice)).json()["items"] == []
    mine = await api.http.get(f"/v1/backtests/{bobs}/optimisation", headers=bob)
    assert mine.status_code == 200 and mine.json()["evaluated"] == 4

    # a portfolio over two of bob's datasets: his own run; alice can neither use them nor see it
    second = await upload(api, bob, "walk-2")
    basket = {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}, "weights": ["0.6", "0.4"],
              "symbols": [{"dataset_id": dataset_id}, {"dataset_id": second}]}  # fmt: skip
    taken = await api.http.post("/v1/backtests/portfolio", headers=alice, json=basket)
    assert taken.status_code == 422 and fields(taken) == ["body.symbols.0.dataset_id"], taken.text
    heavy = await api.http.post(
        "/v1/backtests/portfolio", headers=bob, json=basket | {"weights": ["0.6", "0.5"]}
    )
    assert heavy.status_code == 422 and fields(heavy) == ["body.weights"], heavy.text
    accepted = await api.http.post("/v1/backtests/portfolio", headers=bob, json=basket)
    assert accepted.status_code == 202, accepted.text
    portfolio_id = accepted.json()["backtest_id"]
    assert (await finished(api, bob, portfolio_id))["kind"] == "portfolio"
    results = (await api.http.get(f"/v1/backtests/{portfolio_id}/results", headers=bob)).json()
    assert [m["symbol"] for m in results["portfolio"]["symbols"]] == [dataset_id, second]
    trades = (await api.http.get(f"/v1/backtests/{portfolio_id}/trades", headers=bob)).json()["items"]
    assert trades and {t["symbol"] for t in trades} <= {dataset_id, second}
    hidden = await api.http.get(f"/v1/backtests/{portfolio_id}/results", headers=alice)
    assert hidden.status_code == 404


async def test_backtest_engine_down_is_503_and_slow_is_504(
    make_api: ApiFactory, nc: NatsClient, nats_prefix: str
) -> None:
    api = await make_api(proxy_timeout_s=0.3, rate_backtests_capacity=100)
    _, session = await api.user()
    down = await api.http.get("/v1/backtests/abc", headers=session)
    assert down.status_code == 503 and down.json()["retryable"] is True
    submitted = await api.http.post("/v1/backtests", headers=session, json=submit_body("ds"))
    assert submitted.status_code == 503 and submitted.json()["code"] == "unavailable"

    async def slow(_: CallerContext, body: BacktestRef) -> BacktestSummary:
        await asyncio.sleep(1.0)
        raise AssertionError("never answers in time")

    op = Operation("status", BacktestRef, BacktestSummary, slow)
    service = await serve(
        nc, service="backtest-engine", version="0.0.0", subjects=Subjects(nats_prefix), operations=[op]
    )
    try:
        late = await api.http.get("/v1/backtests/abc", headers=session)
        assert (
            late.status_code == 504 and late.json()["code"] == "timeout" and late.json()["retryable"] is True
        )
    finally:
        await service.stop()
