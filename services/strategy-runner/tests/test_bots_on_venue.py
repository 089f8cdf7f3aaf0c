"""A bot on an exchange (venue) account: its orders go through order-router's venue path (the real
ccxt library against order-router's stand-in Binance spot process) and its fills come back as
order-router events, as for a paper account."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest
from bots_harness import PARAMS, PRICES, BotsEnv, Market, approve_risk, crossing_bar, decisions, eventually
from nats.aio.client import Client
from sr_caller import Caller, fields
from test_bot_lone_exits import TRAIL
from test_graph_strategies import sma_cross

from tradeloom.order_router.credentials import Keyring, new_key
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port
from tradeloom.strategy_runner import app
from tradeloom.strategy_runner.settings import StrategyRunnerSettings

_LAUNCHER = Path(__file__).parents[2] / "order-router" / "tests" / "standin_venue" / "launcher.py"
_spec = importlib.util.spec_from_file_location("standin_launcher", _LAUNCHER)
assert _spec is not None and _spec.loader is not None
launcher: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(launcher)

standin_venue = launcher.standin_venue
VENUE = "binance"
DEADLINE_S = 90.0


def router_settings(standin: Any) -> dict[str, Any]:
    """order-router with ``binance`` served by the stand-in (spot only, polled fills)."""
    return {
        "credential_keys": Keyring({1: new_key()}, 1).format(),
        "venue_api_urls": {VENUE: standin.ccxt_api_urls(ccxt.binance().urls["api"])},
        "venue_options": {VENUE: {"fetchMarkets": {"types": ["spot"]}}},
        "venue_timeout_s": 2.0,
        "venue_poll_interval_s": 0.2,
        "venue_fill_streams": False,
    }


@pytest.fixture
async def venue_bots_env(
    sr_schema: str, database_url: str, nats_url: str, nats_prefix: str, nc: Client, pg_server: Any,
    standin_venue: Any,
) -> AsyncIterator[BotsEnv]:  # fmt: skip
    """The bots' world with market-data's synthetic venue named ``binance`` and order-router
    trading ``binance`` accounts at the stand-in venue."""
    from bots_harness import trading_stack

    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    risk = await approve_risk(nc, subjects)
    settings = StrategyRunnerSettings(
        database_url=database_url, nats_url=nats_url, nats_prefix=nats_prefix, db_schema=sr_schema,
        environment="test", health_port=free_port(), bot_lease_ttl_s=3, bot_tick_s=0.2,
    )  # fmt: skip
    stack = trading_stack(
        pg_server, database_url, nats_url, nats_prefix, venue=VENUE, router=router_settings(standin_venue)
    )
    async with stack:
        runtime = app.build(settings)
        await runtime.start()
        client = ServiceClient(nc, subjects)
        try:
            yield BotsEnv(
                Caller(client, "alice"), Caller(client, "alice", "order-router"),
                Market.recent(nc, subjects, VENUE),
            )  # fmt: skip
        finally:
            await runtime.stop()
            await risk.unsubscribe()


async def exchange_account(orders: Caller, standin: Any) -> str:
    body = {"venue": VENUE, "label": "main", "api_key": standin.api_key, "secret": standin.secret}
    connection = await orders("exchange_connections_create", body)
    account = await orders(
        "exchange_accounts_create", {"connection_id": connection["connection_id"], "name": "bot spot"}
    )
    return str(account["account_id"])


async def new_venue_bot(env: BotsEnv, account_id: str, graph: dict[str, Any], venue: str = VENUE) -> Any:
    strategy = await env.sr("strategies_create", {"name": "cross", "kind": "graph", "graph": graph})
    return await env.sr(
        "bots_create",
        {
            "name": "venue bot", "strategy_id": strategy["strategy_id"], "strategy_version": 1,
            "account_id": account_id, "symbol": "BTC/USDT", "venue": venue, "timeframe": "1m",
            "sizing": {"kind": "fixed", "quantity": "0.1"}, "max_position": "1",
        },
    )  # fmt: skip


async def test_a_bot_on_an_exchange_account_orders_at_the_venue_and_sees_its_fills(
    venue_bots_env: BotsEnv, standin_venue: Any
) -> None:
    env = venue_bots_env
    cross = crossing_bar()
    entry = Decimal(PRICES[cross])
    await standin_venue.control("set_price", symbol="BTCUSDT", price=str(entry))
    account_id = await exchange_account(env.orders, standin_venue)
    # sma_cross 3/5 with a lone 5 % stop-loss: the entry, then a stop_market sell resting at the venue
    bot_id = (await new_venue_bot(env, account_id, sma_cross(PARAMS["fast"], PARAMS["slow"])))["bot_id"]
    assert (await env.sr("bots_start", {"bot_id": bot_id}))["status"] == "running"
    await env.market.bars(0, cross + 1)  # the trade of bar cross+1 closes the crossing bar

    async def at_venue() -> list[tuple[str, str, str]]:
        state = await standin_venue.control("state")
        return [(o["clientOrderId"], o["status"], o["type"]) for o in state["orders"].values()]

    async def stop_resting() -> bool:  # at the venue, and here once the venue's answer is applied
        if not any(kind == "STOP_LOSS" and status == "NEW" for _, status, kind in await at_venue()):
            return False
        listed = (await env.orders("orders_list", {"account_id": account_id}))["items"]
        return any(o["type"] == "stop_market" and o["status"] == "new" for o in listed)

    await eventually(stop_resting, DEADLINE_S)
    assert (await env.sr("bots_get", {"bot_id": bot_id}))["position"] == "0.1"
    listed = (await env.orders("orders_list", {"account_id": account_id}))["items"]
    by_type = {o["type"]: o for o in listed}
    assert sorted(by_type) == ["market", "stop_market"]
    buy, stop = by_type["market"], by_type["stop_market"]
    assert (buy["side"], buy["status"], buy["quantity"]) == ("buy", "filled", "0.1")
    assert buy["client_order_id"].startswith("bot-")
    assert (stop["side"], stop["status"], stop["client_order_id"]) == (
        "sell",
        "new",
        buy["client_order_id"] + "-sl",
    )
    assert Decimal(stop["stop_price"]) < entry
    assert sorted(await at_venue()) == sorted(
        [(buy["client_order_id"], "FILLED", "MARKET"), (stop["client_order_id"], "NEW", "STOP_LOSS")]
    )
    logged = [d for d in await decisions(env.sr, bot_id) if d["action"] == "buy"]
    assert [d["order_id"] for d in logged] == [buy["order_id"]]
    # the venue fills the stop: the bot sees it through order-router's events, flat, exit logged once
    await standin_venue.control(
        "fill", symbol="BTCUSDT", clientOrderId=stop["client_order_id"], price=stop["stop_price"]
    )

    async def flat() -> bool:
        return (await env.sr("bots_get", {"bot_id": bot_id}))["position"] == "0"

    await eventually(flat, DEADLINE_S)
    exits = [d for d in await decisions(env.sr, bot_id) if d["signal"] == "stop_loss"]
    assert len(exits) == 1
    fills = (await env.orders("fills_list", {"account_id": account_id}))["items"]
    assert sorted((f["side"], f["quantity"]) for f in fills) == [("buy", "0.1"), ("sell", "0.1")]


async def test_a_bot_an_exchange_account_cannot_run_is_refused_at_create(
    venue_bots_env: BotsEnv, standin_venue: Any
) -> None:
    env = venue_bots_env
    account_id = await exchange_account(env.orders, standin_venue)
    graph = sma_cross(PARAMS["fast"], PARAMS["slow"])
    other_venue = await env.sr.error(
        "bots_create", (await _body(env, graph)) | {"account_id": account_id, "venue": "sim"}
    )
    assert (other_venue.code, fields(other_venue)) == ("validation_error", ["venue"])
    # a trailing stop as a bracket's leg (with a take-profit) rests at no venue
    target = {"id": "target", "type": "sink.take_profit", "params": {"fraction": 0.2}}
    trailing = {**graph, "nodes": [*(n for n in graph["nodes"] if n["id"] != "stop"), TRAIL, target]}
    refused = await env.sr.error("bots_create", (await _body(env, trailing)) | {"account_id": account_id})
    assert (refused.code, fields(refused)) == ("validation_error", ["strategy_id"])
    assert "trailing" in refused.message
    assert (await env.sr("bots_list", {}))["items"] == []
    # bots_update to a version with a trailing bracket leg: refused the same way, the bot unchanged
    body = (await _body(env, graph)) | {"account_id": account_id}
    bot = await env.sr("bots_create", body)
    await env.sr("strategy_versions_add", {"strategy_id": body["strategy_id"], "graph": trailing})
    moved = await env.sr.error("bots_update", {"bot_id": bot["bot_id"], "strategy_version": 2})
    assert (moved.code, fields(moved)) == ("validation_error", ["strategy_version"])
    assert (await env.sr("bots_get", {"bot_id": bot["bot_id"]}))["strategy_version"] == 1


async def test_a_bots_lone_trailing_stop_rests_at_the_venue_natively(
    venue_bots_env: BotsEnv, standin_venue: Any
) -> None:
    """Issue 13: a lone 10 % trailing stop exit on an exchange account at Binance is order-router's
    native venue trailing stop (spot ``STOP_LOSS`` with ``trailingDelta`` 1000 bips); its fill
    at the venue makes the bot flat, the exit logged once."""
    env = venue_bots_env
    cross = crossing_bar()
    await standin_venue.control("set_price", symbol="BTCUSDT", price=str(PRICES[cross]))
    account_id = await exchange_account(env.orders, standin_venue)
    graph = sma_cross(PARAMS["fast"], PARAMS["slow"])
    trailing = {**graph, "nodes": [*(n for n in graph["nodes"] if n["id"] != "stop"), TRAIL]}
    bot_id = (await new_venue_bot(env, account_id, trailing))["bot_id"]
    assert (await env.sr("bots_start", {"bot_id": bot_id}))["status"] == "running"
    await env.market.bars(0, cross + 1)

    async def trailing_at_venue() -> list[dict[str, Any]]:
        orders = (await standin_venue.control("state"))["orders"].values()
        return [o for o in orders if o["clientOrderId"].endswith("-ts")]

    async def rests() -> bool:
        return [(o["type"], o["status"], o.get("trailingDelta")) for o in await trailing_at_venue()] == [
            ("STOP_LOSS", "NEW", 1000)
        ]

    await eventually(rests, DEADLINE_S)
    [stop] = await trailing_at_venue()
    await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId=stop["clientOrderId"], price="90")

    async def flat() -> bool:
        return (await env.sr("bots_get", {"bot_id": bot_id}))["position"] == "0"

    await eventually(flat, DEADLINE_S)
    assert len([d for d in await decisions(env.sr, bot_id) if d["signal"] == "trailing_stop"]) == 1


async def _body(env: BotsEnv, graph: dict[str, Any]) -> dict[str, Any]:
    name = f"s{len((await env.sr('strategies_list', {}))['items'])}"
    strategy = await env.sr("strategies_create", {"name": name, "kind": "graph", "graph": graph})
    return {
        "name": "venue bot",
        "strategy_id": strategy["strategy_id"],
        "strategy_version": 1,
        "symbol": "BTC/USDT",
        "venue": VENUE,
        "timeframe": "1m",
        "sizing": {"kind": "fixed", "quantity": "0.1"},
        "max_position": "1",
    }


async def test_a_bots_stop_loss_and_take_profit_rest_at_the_venue_as_one_oco_pair(
    venue_bots_env: BotsEnv, standin_venue: Any
) -> None:
    env = venue_bots_env
    cross = crossing_bar()
    await standin_venue.control("set_price", symbol="BTCUSDT", price=str(PRICES[cross]))
    account_id = await exchange_account(env.orders, standin_venue)
    graph = sma_cross(PARAMS["fast"], PARAMS["slow"])
    target = {"id": "target", "type": "sink.take_profit", "params": {"fraction": 0.2}}
    bot_id = (await new_venue_bot(env, account_id, {**graph, "nodes": [*graph["nodes"], target]}))["bot_id"]
    assert (await env.sr("bots_start", {"bot_id": bot_id}))["status"] == "running"
    await env.market.bars(0, cross + 1)

    async def state() -> dict[str, tuple[str, str]]:
        orders = (await standin_venue.control("state"))["orders"].values()
        return {o["clientOrderId"][-3:]: (o["type"], o["status"]) for o in orders}

    async def pair_rests() -> bool:
        return {k: v for k, v in (await state()).items() if k in ("-sl", "-tp")} == {
            "-sl": ("STOP_LOSS", "NEW"), "-tp": ("TAKE_PROFIT", "NEW")
        }  # fmt: skip

    await eventually(pair_rests, DEADLINE_S)
    assert len(await state()) == 3  # the entry (filled) and its two exits, each sent once
    listed = (await env.orders("orders_list", {"account_id": account_id}))["items"]
    entry = next(o for o in listed if o["type"] == "market")
    assert (entry["status"], entry["client_order_id"].startswith("bot-")) == ("filled", True)
    take = next(o for o in listed if o["type"] == "take_profit_market")
    await standin_venue.control(
        "fill", symbol="BTCUSDT", clientOrderId=take["client_order_id"], price=take["stop_price"]
    )

    async def flat() -> bool:
        return (await env.sr("bots_get", {"bot_id": bot_id}))["position"] == "0"

    await eventually(flat, DEADLINE_S)

    async def stop_cancelled() -> bool:  # the other leg's cancel follows the fill at the venue
        return (await state())["-sl"] == ("STOP_LOSS", "CANCELED")

    await eventually(stop_cancelled, DEADLINE_S)
    assert len([d for d in await decisions(env.sr, bot_id) if d["signal"] == "take_profit"]) == 1
