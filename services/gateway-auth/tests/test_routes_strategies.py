"""``/v1/strategies`` through the gateway with the REAL strategy-runner, and backtests of a saved
strategy's version with the real backtest-engine and market-data (each on its own schema)."""

from __future__ import annotations

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
async def sr_api(
    make_api: ApiFactory, nc: NatsClient, nats_prefix: str, pg_server: Any, database_url: str, nats_url: str
) -> AsyncIterator[Api]:
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    api = await make_api(rate_code_capacity=100, rate_backtests_capacity=100)
    async with (
        strategy_runner_runtime(pg_server, database_url, nats_url, nats_prefix),
        market_data_runtime(pg_server, database_url, nats_url, nats_prefix),
        backtest_engine_runtime(pg_server, database_url, nats_url, nats_prefix),
    ):
        yield api


def fields(response: Any) -> list[str]:
    return [f["field"] for f in response.json()["details"].get("fields", [])]


async def test_saved_strategy_versions_and_a_backtest_of_each(sr_api: Api) -> None:
    api = sr_api
    _, session = await api.user()
    made = await api.http.post(
        "/v1/strategies",
        headers=session,
        json={"name": "trend 5-20", "template": "sma_cross", "params": {"fast": 5, "slow": 20}},
    )
    assert made.status_code == 201, made.text
    strategy_id = made.json()["strategy_id"]
    assert made.json()["latest_version"] == 1
    second = await api.http.post(
        f"/v1/strategies/{strategy_id}/versions", headers=session, json={"params": {"fast": 8, "slow": 30}}
    )
    assert second.status_code == 201 and second.json()["version"] == 2, second.text
    versions = (await api.http.get(f"/v1/strategies/{strategy_id}/versions", headers=session)).json()
    assert [v["version"] for v in versions["items"]] == [1, 2]
    listed = (await api.http.get("/v1/strategies", headers=session, params={"limit": 1})).json()
    assert [s["strategy_id"] for s in listed["items"]] == [strategy_id] and listed["next_cursor"] is None

    dataset_id = await upload(api, session)
    ran = {}
    for version in (1, None):  # version 1, then the latest (2)
        body = {"strategy_id": strategy_id, "dataset_id": dataset_id}
        if version is not None:
            body["strategy_version"] = version
        accepted = await api.http.post("/v1/backtests", headers=session, json=body)
        assert accepted.status_code == 202, accepted.text
        done = await finished(api, session, accepted.json()["backtest_id"])
        assert done["status"] == "completed", done
        assert done["strategy"] == "sma_cross" and done["strategy_id"] == strategy_id
        ran[done["strategy_version"]] = done["params"]
    assert ran[1]["fast"] == 5 and ran[2]["fast"] == 8 and ran[2]["slow"] == 30

    # the strategy can go; the runs keep what they ran
    assert (await api.http.delete(f"/v1/strategies/{strategy_id}", headers=session)).status_code == 200
    assert (await api.http.get(f"/v1/strategies/{strategy_id}", headers=session)).status_code == 404


async def test_saved_strategy_bad_inputs_and_ownership(sr_api: Api) -> None:
    api = sr_api
    _, bob = await api.user()
    _, alice = await api.user()
    post = api.http.post
    unknown = await post("/v1/strategies", headers=bob, json={"name": "x", "template": "nope"})
    assert unknown.status_code == 422 and fields(unknown) == ["body.template"], unknown.text
    bad_param = await post(
        "/v1/strategies", headers=bob, json={"name": "x", "template": "sma_cross", "params": {"fast": -3}}
    )
    assert bad_param.status_code == 422 and fields(bad_param) == ["body.params.fast"], bad_param.text
    extra = await post(
        "/v1/strategies", headers=bob, json={"name": "x", "template": "sma_cross", "owner": "a"}
    )
    assert extra.status_code == 422 and fields(extra) == ["body.owner"], extra.text
    made = await post("/v1/strategies", headers=bob, json={"name": "mine", "template": "sma_cross"})
    assert made.status_code == 201, made.text
    again = await post("/v1/strategies", headers=bob, json={"name": "mine", "template": "rsi_reversion"})
    assert again.status_code == 409, again.text
    strategy_id = made.json()["strategy_id"]
    assert (await api.http.get(f"/v1/strategies/{strategy_id}/versions/7", headers=bob)).status_code == 404
    assert (await api.http.get(f"/v1/strategies/{strategy_id}/versions/0", headers=bob)).status_code == 422

    dataset_id = await upload(api, bob)
    both = await post(
        "/v1/backtests",
        headers=bob,
        json={"strategy": "sma_cross", "strategy_id": strategy_id, "dataset_id": dataset_id},
    )
    assert both.status_code == 422 and fields(both) == ["body.strategy"], both.text
    with_params = await post(
        "/v1/backtests",
        headers=bob,
        json={"strategy_id": strategy_id, "params": {"fast": 3}, "dataset_id": dataset_id},
    )
    assert with_params.status_code == 422 and fields(with_params) == ["body.params"], with_params.text
    neither = await post("/v1/backtests", headers=bob, json={"dataset_id": dataset_id})
    assert neither.status_code == 422 and fields(neither) == ["body.strategy"], neither.text
    no_version = await post(
        "/v1/backtests",
        headers=bob,
        json={"strategy_id": strategy_id, "strategy_version": 9, "dataset_id": dataset_id},
    )
    assert no_version.status_code == 422 and fields(no_version) == ["body.strategy_version"], no_version.text

    # alice: bob's strategy is not hers, through every route and through a backtest
    for method, url in (
        ("GET", f"/v1/strategies/{strategy_id}"),
        ("DELETE", f"/v1/strategies/{strategy_id}"),
        ("GET", f"/v1/strategies/{strategy_id}/versions"),
        ("GET", f"/v1/strategies/{strategy_id}/versions/1"),
    ):
        assert (await api.http.request(method, url, headers=alice)).status_code == 404, (method, url)
    foreign = await post(
        f"/v1/strategies/{strategy_id}/versions", headers=alice, json={"params": {"fast": 3, "slow": 9}}
    )
    assert foreign.status_code == 404, foreign.text
    alice_dataset = await upload(api, alice, name="alices")
    borrowed = await post(
        "/v1/backtests", headers=alice, json={"strategy_id": strategy_id, "dataset_id": alice_dataset}
    )
    assert borrowed.status_code == 422 and fields(borrowed) == ["body.strategy_id"], borrowed.text
    assert (await api.http.get(f"/v1/strategies/{strategy_id}", headers=bob)).status_code == 200
    await user_indicators_through_the_gateway(api, bob, alice, dataset_id)


CLOSE_SMA = {
    "nodes": [
        {"id": "close", "type": "input.close"},
        {"id": "sma", "type": "indicator.sma", "params": {"window": 3}},
        {"id": "sma3", "type": "sink.output"},
    ],
    "edges": [
        {"source": "close", "target": "sma", "target_port": "in"},
        {"source": "sma", "target": "sma3", "target_port": "value"},
    ],
}


async def user_indicators_through_the_gateway(
    api: Api, bob: dict[str, str], alice: dict[str, str], dataset_id: str
) -> None:
    """A user's own indicator: a code error names the line at body.code; a graph one is charted over
    the caller's dataset like the built-in; another user's is 404."""
    post = api.http.post
    bad = await post(
        "/v1/indicators/user", headers=bob, json={"name": "bad", "code": "def compute(b, p):\n  x = (\n"}
    )
    assert bad.status_code == 422 and fields(bad) == ["body.code"] and bad.json()["details"]["line"] == 2, (
        bad.text
    )
    made = await post(
        "/v1/indicators/user", headers=bob, json={"name": "sma3", "kind": "graph", "graph": CLOSE_SMA}
    )
    assert made.status_code == 201, made.text
    indicator_id = made.json()["indicator_id"]
    mine = await post(
        "/v1/indicators/compute",
        headers=bob,
        json={"user_indicator_id": indicator_id, "dataset_id": dataset_id},
    )
    builtin = await post(
        "/v1/indicators/compute",
        headers=bob,
        json={"indicator": "sma", "params": {"window": 3}, "dataset_id": dataset_id},
    )
    assert mine.status_code == 200 and builtin.status_code == 200, (mine.text, builtin.text)
    assert mine.json()["open_ns"] == builtin.json()["open_ns"]
    assert mine.json()["outputs"]["sma3"] == builtin.json()["outputs"]["value"]
    assert (await api.http.get(f"/v1/indicators/user/{indicator_id}", headers=alice)).status_code == 404
    foreign = await post(
        "/v1/indicators/compute",
        headers=alice,
        json={"user_indicator_id": indicator_id, "dataset_id": dataset_id},
    )
    assert foreign.status_code == 404, foreign.text


async def test_another_users_dataset_or_strategy_is_refused_at_submit_alike(sr_api: Api) -> None:
    """Another user's ``dataset_id`` and ``strategy_id`` are both refused at submit (not queued to fail
    later), each answered exactly as an unknown id, and the two in the same shape."""
    api = sr_api
    _, bob = await api.user()
    _, alice = await api.user()
    post = api.http.post
    made = await post("/v1/strategies", headers=bob, json={"name": "bobs", "template": "sma_cross"})
    bobs_strategy, bobs_dataset = made.json()["strategy_id"], await upload(api, bob)
    mine = await post("/v1/strategies", headers=alice, json={"name": "mine", "template": "sma_cross"})
    my_strategy, my_dataset = mine.json()["strategy_id"], await upload(api, alice, name="alices")

    async def refusal(strategy_id: str, dataset_id: str) -> dict[str, Any]:
        body = {"strategy_id": strategy_id, "dataset_id": dataset_id}
        response = await post("/v1/backtests", headers=alice, json=body)
        assert response.status_code == 422, response.text
        problem = dict(response.json())
        return {k: v for k, v in problem.items() if k not in {"request_id", "instance"}}

    foreign_dataset = await refusal(my_strategy, bobs_dataset)
    unknown_dataset = await refusal(my_strategy, "0190f0a0-0000-7000-8000-000000000000")
    foreign_strategy = await refusal(bobs_strategy, my_dataset)
    unknown_strategy = await refusal("0190f0a0-0000-7000-8000-000000000000", my_dataset)
    assert foreign_dataset == unknown_dataset and foreign_strategy == unknown_strategy
    for problem, field, what in (
        (foreign_dataset, "body.dataset_id", "dataset"),
        (foreign_strategy, "body.strategy_id", "strategy"),
    ):
        assert problem["code"] == "validation_error" and problem["status"] == 422, problem
        assert [f["field"] for f in problem["details"]["fields"]] == [field], problem
        assert problem["details"]["fields"][0]["message"].startswith(f"no such {what}"), problem
        assert problem["details"]["fields"][0]["message"].endswith("of yours"), problem
    assert (await api.http.get("/v1/backtests", headers=alice)).json()["items"] == []
