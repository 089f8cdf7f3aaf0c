"""Ownership for every object-scoped route (listed from the OpenAPI, so future routes are covered),
and schemathesis against the app served by uvicorn in this process (no 5xx, responses match)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from backends import (
    analytics_runtime,
    backtest_engine_runtime,
    order_router_runtime,
    risk_monitor_runtime,
    strategy_runner_runtime,
    trading_market_runtime,
)
from gateway_testkit import PASSWORD, Api, make_settings, migrated
from hypothesis import HealthCheck, given, settings
from nats.aio.client import Client as NatsClient
from sandbox_backend import RuntimesThread, sandbox_executor
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from served import ServedGateway
from test_routes_market_data import bars_csv
from venue_backend import API_KEY, SECRET, StandinVenue, standin_venue, venue_overrides

from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects

__all__ = ["standin_venue"]  # a fixture of this module
ADMIN_PREFIX = "/v1/admin/"
# routes whose input is checked before the owner: valid input, so the answer is about ownership
VALID_INPUT: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/datasets/{dataset_id}/resample"): {"json": {"timeframe": "4h"}},
    ("POST", "/v1/datasets/{dataset_id}/preprocess"): {"json": {"steps": [{"op": "returns"}]}},
    ("GET", "/v1/backtests/{backtest_id}/optimisation/heatmap"): {"params": {"x": "fast", "y": "slow"}},
    ("POST", "/v1/connections/{connection_id}/accounts"): {"json": {"name": "mine"}},
    ("POST", "/v1/schedules/{schedule_id}/enabled"): {"json": {"enabled": False}},
    ("POST", "/v1/strategies/{strategy_id}/duplicate"): {"json": {"name": "mine"}},
    ("POST", "/v1/indicators/user/{indicator_id}/versions"): {
        "json": {"code": "def compute(bars, params):\n    return {}\n"}
    },
    ("GET", "/v1/analytics/strategies/{strategy_id}/report"): {"params": {"capital": "1000"}},
    ("PUT", "/v1/risk/accounts/{account_id}/perp-settings"): {
        "json": {"symbol": "BTC/USDT:USDT", "leverage": "5"}
    },
}


def object_routes(openapi: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, path) of every route with a path parameter, i.e. one that names an object."""
    return [
        (method.upper(), path)
        for path, operations in openapi["paths"].items()
        if "{" in path
        for method in operations
    ]


async def test_user_a_gets_404_on_user_b_objects(
    api: Api,
    sandbox: object,
    nc: NatsClient,
    nats_prefix: str,
    pg_server: Any,
    database_url: str,
    nats_url: str,
    standin_venue: StandinVenue,
) -> None:
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    venue = venue_overrides(standin_venue)
    async with (
        trading_market_runtime(pg_server, database_url, nats_url, nats_prefix),
        backtest_engine_runtime(pg_server, database_url, nats_url, nats_prefix),
        strategy_runner_runtime(pg_server, database_url, nats_url, nats_prefix),
        order_router_runtime(pg_server, database_url, nats_url, nats_prefix, **venue),
        risk_monitor_runtime(pg_server, database_url, nats_url, nats_prefix),
        analytics_runtime(pg_server, database_url, nats_url, nats_prefix),
    ):
        bob, bob_session = await api.user()
        key = await api.http.post("/v1/api-keys", headers=bob_session, json={"name": "b", "scopes": ["read"]})
        sessions = (await api.http.get("/v1/users/me/sessions", headers=bob_session)).json()["items"]
        execution = await api.http.post("/v1/sandbox/execute", headers=bob_session, json={"code": "pass"})
        dataset = await api.http.post(
            "/v1/datasets", headers=bob_session, params={"name": "bobs"}, content=bars_csv(30)
        )
        assert dataset.status_code == 201, dataset.text
        run = await api.http.post(
            "/v1/backtests",
            headers=bob_session,
            json={
                "strategy": "sma_cross",
                "params": {"fast": 5, "slow": 20},
                "dataset_id": dataset.json()["dataset_id"],
            },
        )
        assert run.status_code == 202, run.text
        strategy = await api.http.post(
            "/v1/strategies", headers=bob_session, json={"name": "bobs", "template": "sma_cross"}
        )
        assert strategy.status_code == 201, strategy.text
        account = await api.http.post("/v1/accounts", headers=bob_session, json={"name": "bobs"})
        assert account.status_code == 201, account.text
        order = await api.http.post(
            "/v1/orders",
            headers=bob_session,
            json={"account_id": account.json()["account_id"], "symbol": "BTC/USDT", "side": "buy",
                  "type": "limit", "quantity": "0.01", "price": "1000"},
        )  # fmt: skip
        assert order.status_code == 201, order.text
        connection = await api.http.post(
            "/v1/connections",
            headers=bob_session,
            json={"venue": "binance", "label": "bobs", "api_key": standin_venue.api_key,
                  "secret": standin_venue.secret},
        )  # fmt: skip
        assert connection.status_code == 201, connection.text
        bot = await api.http.post(
            "/v1/bots",
            headers=bob_session,
            json={"name": "bobs", "strategy_id": strategy.json()["strategy_id"], "strategy_version": 1,
                  "account_id": account.json()["account_id"], "symbol": "BTC/USDT",
                  "sizing": {"kind": "fixed", "quantity": "0.01"}, "max_position": "0.01"},
        )  # fmt: skip
        assert bot.status_code == 201, bot.text
        rule_set = await api.http.post(
            "/v1/analytics/prop-firm/rule-sets",
            headers=bob_session,
            json={"name": "bobs", "rules": {"start_balance": "10000", "max_loss": "500"}},
        )
        assert rule_set.status_code == 201, rule_set.text
        watch = await api.http.post(
            "/v1/analytics/prop-firm/watches",
            headers=bob_session,
            json={"id": account.json()["account_id"], "rule_set_id": rule_set.json()["rule_set_id"]},
        )
        assert watch.status_code == 201, watch.text
        expiry = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        option_strategy = await api.http.post(
            "/v1/analytics/options/strategies",
            headers=bob_session,
            json={"name": "bobs", "underlying": "BTC/USDT",
                  "legs": [{"type": "call", "quantity": 1, "entry_price": 100, "strike": 90000,
                            "expiry": expiry, "volatility": 0.5}]},
        )  # fmt: skip
        assert option_strategy.status_code == 201, option_strategy.text
        schedule = await api.http.post(
            "/v1/schedules",
            headers=bob_session,
            json={"name": "bobs", "cron": "0 9 * * 1-5", "timezone": "Europe/Paris",
                  "action": {"kind": "bot_stop", "bot_id": bot.json()["bot_id"]}},
        )  # fmt: skip
        assert schedule.status_code == 201, schedule.text
        indicator = await api.http.post(
            "/v1/indicators/user", headers=bob_session,
            json={"name": "bobs", "code": "def compute(bars, params):\n    return {'c': bars['close']}\n"},
        )  # fmt: skip
        assert indicator.status_code == 201, indicator.text
        bobs = {
            "evaluation_id": watch.json()["evaluation_id"],
            "option_strategy_id": option_strategy.json()["option_strategy_id"],
            "rule_set_id": rule_set.json()["rule_set_id"],
            "key_id": key.json()["id"],
            "session_id": sessions[0]["id"],
            "user_id": bob["id"],
            "execution_id": execution.json()["execution_id"],
            "dataset_id": dataset.json()["dataset_id"],
            "backtest_id": run.json()["backtest_id"],
            "strategy_id": strategy.json()["strategy_id"],
            "version": 1,
            "account_id": account.json()["account_id"],
            "order_id": order.json()["order_id"],
            "connection_id": connection.json()["connection_id"],
            "bot_id": bot.json()["bot_id"],
            "schedule_id": schedule.json()["schedule_id"],
            "indicator_id": indicator.json()["indicator_id"],
        }
        _, alice = await api.user()
        routes = object_routes((await api.http.get("/v1/openapi.json")).json())
        assert len(routes) >= 20
        for method, path in routes:
            params = [part[1:-1] for part in path.split("/") if part.startswith("{")]
            missing = [p for p in params if p not in bobs]
            assert not missing, f"{method} {path}: add an object of user B for {missing} to this test"
            url = path.format(**bobs)
            request = {"json": {}} | VALID_INPUT.get((method, path), {})
            response = await api.http.request(method, url, headers=alice, **request)
            expected = 403 if path.startswith(ADMIN_PREFIX) else 404  # admin routes: not for users at all
            assert response.status_code == expected, (method, path, response.text)
        # and Bob's objects are untouched and still his
        assert (await api.http.get(f"/v1/api-keys/{bobs['key_id']}", headers=bob_session)).json()[
            "revoked_at"
        ] is None
        assert (await api.http.get("/v1/users/me", headers=bob_session)).status_code == 200
        for url in (
            f"/v1/sandbox/jobs/{bobs['execution_id']}",
            f"/v1/datasets/{bobs['dataset_id']}",
            f"/v1/backtests/{bobs['backtest_id']}",
            f"/v1/strategies/{bobs['strategy_id']}/versions/1",
            f"/v1/accounts/{bobs['account_id']}",
            f"/v1/orders/{bobs['order_id']}",
            f"/v1/risk/accounts/{bobs['account_id']}/limits",
            f"/v1/connections/{bobs['connection_id']}",
            f"/v1/bots/{bobs['bot_id']}",
            f"/v1/analytics/accounts/{bobs['account_id']}/equity?capital=1000",
            f"/v1/schedules/{bobs['schedule_id']}",
            f"/v1/indicators/user/{bobs['indicator_id']}/versions/1",
        ):
            assert (await api.http.get(url, headers=bob_session)).status_code == 200, url


@pytest.fixture
def served(
    pg_server: Any, database_url: str, nats_url: str, db_schema: str, nats_prefix: str, tmp_path: Path
) -> Iterator[str]:
    """The gateway under uvicorn with real sandbox-executor, market-data, backtest-engine,
    strategy-runner, order-router (its ``binance`` a stand-in venue process), risk-monitor and
    analytics."""
    asyncio.run(migrated(database_url, db_schema))
    venue = StandinVenue(tmp_path / "venue.json", API_KEY, SECRET)
    asyncio.run(venue.start())
    settings = make_settings(database_url, nats_url, db_schema, nats_prefix)
    backends = RuntimesThread(
        lambda: sandbox_executor(database_url, nats_url, db_schema, nats_prefix),
        lambda: trading_market_runtime(pg_server, database_url, nats_url, nats_prefix),
        lambda: backtest_engine_runtime(pg_server, database_url, nats_url, nats_prefix),
        lambda: strategy_runner_runtime(pg_server, database_url, nats_url, nats_prefix),
        lambda: order_router_runtime(
            pg_server, database_url, nats_url, nats_prefix, **venue_overrides(venue)
        ),
        lambda: risk_monitor_runtime(pg_server, database_url, nats_url, nats_prefix),
        lambda: analytics_runtime(pg_server, database_url, nats_url, nats_prefix),
    )
    try:
        with backends, ServedGateway(settings) as base_url:
            yield base_url
    finally:
        venue.kill()


def run_operation(operation: Any, base_url: str, headers: dict[str, str]) -> None:
    # 5 generated cases per operation over ~300 operations (≈45 s); the bad-input batteries of each
    # route family cover the chosen edge cases, this sweep looks for any 5xx and schema mismatch.
    @settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        case.call_and_validate(
            base_url=base_url, headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )

    check()


@pytest.mark.timeout(600)  # every route (over 100) fuzzed, on a shared 2-core box
def test_schemathesis_no_server_errors_and_responses_match(served: str) -> None:
    email = "fuzz@example.com"
    assert (
        httpx.post(f"{served}/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code
        == 201
    )

    def session() -> dict[str, str]:
        tokens = httpx.post(f"{served}/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
        return {"Authorization": f"Bearer {tokens['access_token']}"}

    schema = schemathesis.openapi.from_url(f"{served}/v1/openapi.json")
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = session()  # a fresh session per route: logout routes end the previous one

        run_operation(operation, served, headers)
        tested += 1
    assert tested >= 50  # every route: a new one is fuzzed too
