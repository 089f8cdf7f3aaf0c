"""risk-monitor and order-router together over real NATS and Postgres (each on its own schema).

order-router asks ``svc.risk-monitor.check`` for every order and keeps halts from ``risk.evt.>``;
risk-monitor folds the router's fills. Market data's instrument registry is a stand-in.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from rm_harness import RiskCaller, eventually

from tradeloom.order_router import app as router_app
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import Instrument, TradesIngested, TradeTick
from tradeloom.shared.ids import market_data_id
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.subjects import Subjects, symbol_token
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service

BTC = Instrument(venue="sim", symbol="BTC/USDT", kind="spot", base="BTC", quote="USDT",
                 tick_size=Decimal("0.5"), lot_size=Decimal("0.001"), min_notional=Decimal(5))  # fmt: skip


@pytest.fixture
def or_db_schema(pg_server: Any, database_url: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.execute(f'CREATE SCHEMA "{schema}"')
    yield schema
    pg_server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
async def router(
    or_db_schema: str, database_url: str, nats_url: str, nats_prefix: str, streams: Subjects, nc: Client
) -> AsyncIterator[None]:
    await migrate_service(router_app, database_url, or_db_schema)

    async def instruments(msg: Msg) -> None:
        await msg.respond(json.dumps({"data": {"instruments": [BTC.model_dump(mode="json")]}}).encode())

    sub = await nc.subscribe(streams.request("market-data", "instruments"), cb=instruments)
    settings = OrderRouterSettings(
        database_url=database_url, nats_url=nats_url, nats_prefix=nats_prefix, db_schema=or_db_schema,
        environment="test", health_port=free_port(), housekeeping_interval_s=0.2,
        risk_check_timeout_s=1,  # the loaded test box, not the deadline, is what this keeps out
    )  # fmt: skip
    runtime = router_app.build(settings)
    await runtime.start()
    try:
        yield
    finally:
        await runtime.stop()
        await sub.unsubscribe()


async def orders(risk: RiskCaller, op: str, body: dict[str, Any]) -> dict[str, Any]:
    caller = CallerContext(user_id=risk.user_id, roles=risk.roles)
    return await risk.client.call_raw("order-router", op, body, caller=caller, timeout_s=10)


async def trade(risk: RiskCaller, price: str, amount: str) -> None:
    trade_id = f"{time.time_ns()}"
    tick = TradeTick.model_validate(
        {"trade_id": trade_id, "ts_ns": time.time_ns(), "price": price, "amount": amount, "side": "buy"}
    )
    event = TradesIngested(venue="sim", symbol="BTC/USDT", trades=[tick])
    publisher = EventPublisher(risk.nc.jetstream(), risk.subjects, "tradeloom/market-data")
    await publisher.publish(
        event, "sim", symbol_token("BTC/USDT"), event_id=market_data_id("sim", "BTC/USDT", trade_id)
    )


def order(account_id: str, side: str, quantity: str, price: str | None = None) -> dict[str, Any]:
    body = {"account_id": account_id, "symbol": "BTC/USDT", "side": side, "quantity": quantity}
    return body | ({"type": "limit", "price": price} if price else {"type": "market"})


async def test_limits_refuse_entries_pass_reductions_and_the_kill_switch_cancels(
    risk: RiskCaller, router: None
) -> None:
    balances = [{"asset": "USDT", "amount": "100000"}, {"asset": "BTC", "amount": "0"}]
    account = (await orders(risk, "accounts_create", {"name": "risk", "balances": balances}))["account_id"]
    await risk("limits_put", {"account_id": account, "max_order_notional": "1000"})

    async def priced() -> bool:  # the router prices market orders once it has consumed a trade
        await trade(risk, "100", "0.001")
        try:
            await orders(risk, "orders_submit", order(account, "buy", "0.05"))
        except RemoteError:
            return False
        return True

    await eventually(priced)
    refused = await orders(risk, "orders_submit", order(account, "buy", "20", "100"))
    assert refused["status"] == "rejected"
    assert refused["reject_reason"] == "risk_rejected: max_order_notional: 2000 > 1000"

    bought = await orders(risk, "orders_submit", order(account, "buy", "5"))
    assert bought["status"] == "new"
    await trade(risk, "100", "10")
    await eventually(lambda: _position_is(risk, account, Decimal("5.05")))

    await risk("limits_put", {"account_id": account, "max_order_notional": "100"})
    entry = await orders(risk, "orders_submit", order(account, "buy", "2", "100"))
    assert entry["reject_reason"] == "risk_rejected: max_order_notional: 200 > 100"
    exit_order = await orders(risk, "orders_submit", order(account, "sell", "5", "200"))
    assert exit_order["status"] == "new"  # reducing: passes although 1000 > 100

    await risk("emergency_stop", {"reason": "test stop"})

    async def canceled() -> bool:
        got = await orders(risk, "orders_get", {"order_id": exit_order["order_id"]})
        return bool(got["order"]["status"] == "canceled")

    await eventually(canceled)
    with pytest.raises(RemoteError) as halted:  # the router stored the halt: new orders refused
        await orders(risk, "orders_submit", order(account, "sell", "1", "200"))
    assert halted.value.code == "conflict"
    await risk("resume", {})

    async def accepted_again() -> bool:
        try:
            reply = await orders(risk, "orders_submit", order(account, "sell", "1", "200"))
        except RemoteError:
            return False
        return bool(reply["status"] == "new")

    await eventually(accepted_again)


async def _position_is(risk: RiskCaller, account: str, quantity: Decimal) -> bool:
    items = (await risk("positions_list", {"account_id": account}))["items"]
    return len(items) == 1 and Decimal(items[0]["quantity"]) == quantity


async def test_while_risk_monitor_is_down_orders_are_refused_saying_why(
    risk: RiskCaller, router: None
) -> None:
    account = (await orders(risk, "accounts_create", {"name": "down"}))["account_id"]
    placed = await orders(risk, "orders_submit", order(account, "buy", "0.01", "1000"))
    assert placed["status"] == "new"
    assert risk.runtime is not None
    await risk.runtime.stop()
    refused = await orders(risk, "orders_submit", order(account, "buy", "0.01", "1000"))
    assert (refused["status"], refused["reject_reason"]) == ("rejected", "risk_check_unavailable")


async def test_equity_values_the_routers_balances_at_the_last_trade_price(
    risk: RiskCaller, router: None
) -> None:
    balances = [{"asset": "USDT", "amount": "10000"}, {"asset": "BTC", "amount": "2"},
                {"asset": "DOGE", "amount": "5"}]  # fmt: skip
    account = (await orders(risk, "accounts_create", {"name": "equity", "balances": balances}))["account_id"]
    await trade(risk, "100", "1")

    async def marked() -> bool:
        return Decimal((await risk("equity", {"account_id": account}))["equity"]) == Decimal(10200)

    await eventually(marked)
    reply = await risk("equity", {"account_id": account})
    assert [(b["asset"], b["value"]) for b in reply["balances"]] == [
        ("BTC", "200"),
        ("DOGE", None),
        ("USDT", "10000"),
    ]
    assert reply["unpriced_assets"] == ["DOGE"]
    assert Decimal(reply["leverage"]) == 0  # no position folded from fills yet
    assert (await risk.as_user("bob").error("equity", {"account_id": account})).code == "not_found"
    # a perpetual (order-router does not trade them: a fill as a test publishes it): 3 at 100, marked
    # at 110 → PnL 30 in the equity, margin used 330 at the default 1× leverage
    await risk.fill(account, "pf1", "buy", "100", "3", symbol="BTC/USDT:USDT")
    await risk.trade("110", symbol="BTC/USDT:USDT")

    async def with_perp() -> bool:
        return (await risk("equity", {"account_id": account}))["perp_pnl"] == "30"

    await eventually(with_perp)
    reply = await risk("equity", {"account_id": account})
    assert (reply["equity"], reply["margin_used"], reply["margin_free"]) == ("10230", "330", "9900")
    # tiered maintenance 330 × 0.5 % = 1.65 of the cross pool's equity 10,230; a 1× long: never liquidated
    assert (reply["maintenance_margin"], reply["liquidation_prices"]) == ("1.65", {"BTC/USDT:USDT": "0"})
    assert Decimal(reply["margin_ratio"]) == (Decimal("1.65") / 10230).quantize(Decimal("1e-18"))


async def test_an_emergency_stop_with_flatten_closes_the_position_through_the_router(
    risk: RiskCaller, router: None
) -> None:
    """risk-monitor's stop of one account with ``flatten`` → order-router cancels its open order
    and sells the long; the close's fill folds the position back to zero in risk-monitor."""
    account = (await orders(risk, "accounts_create", {"name": "flat"}))["account_id"]

    async def bought() -> bool:
        await trade(risk, "100", "10")
        return await _position_is(risk, account, Decimal("0.5"))

    await eventually(lambda: _submitted(risk, order(account, "buy", "0.5")))
    await eventually(bought)
    resting = await orders(risk, "orders_submit", order(account, "buy", "0.1", "90"))
    await risk("emergency_stop", {"reason": "flatten me", "account_id": account, "flatten": True})

    async def flat() -> bool:
        await trade(risk, "101", "10")  # the close is a market order: the next trade fills it
        return await _position_is(risk, account, Decimal(0))

    await eventually(flat)
    got = await orders(risk, "orders_get", {"order_id": resting["order_id"]})
    assert got["order"]["status"] == "canceled"
    listed = (await orders(risk, "orders_list", {"account_id": account, "side": "sell"}))["items"]
    assert [(o["client_order_id"][:5], o["status"], o["quantity"]) for o in listed] == [
        ("flat-", "filled", "0.5")
    ]


async def _submitted(risk: RiskCaller, body: dict[str, Any]) -> bool:
    """The router prices market orders once it has consumed a trade: retry until it takes one."""
    await trade(risk, "100", "0.001")
    try:
        reply = await orders(risk, "orders_submit", {**body, "client_order_id": "entry"})
    except RemoteError:
        return False
    return bool(reply["status"] != "rejected")
