"""Hedge position mode through the real order-router and risk-monitor (real NATS and Postgres).

The account's perpetual is set to hedge mode in risk-monitor's ``perp_settings`` (10×, isolated);
a long and a short open side by side, the short is closed with a reduce-only order (trimmed to the
short, the long stays), and risk-monitor folds one position per side: gross adds the two sides,
net nets them. Bad inputs: a missing or an unexpected ``position_side``, a reduce-only order on a
side with nothing left, and a position-mode change while the symbol is open (422 naming the field).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from rm_harness import RiskCaller, eventually
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_with_order_router import or_db_schema, orders  # noqa: F401  (the fixture is used by name)

from tradeloom.order_router import app as router_app
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.contracts.market_data import Instrument, TradesIngested, TradeTick
from tradeloom.shared.ids import market_data_id
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.subjects import Subjects, symbol_token
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service

D = Decimal
PERP = "BTC/USDT:USDT"
INSTRUMENT = Instrument(venue="sim", symbol=PERP, kind="perpetual", base="BTC", quote="USDT", settle="USDT",
                        tick_size=D("0.5"), lot_size=D("0.001"), min_notional=D(5))  # fmt: skip


@pytest.fixture
async def perp_router(
    or_db_schema: str,  # noqa: F811
    database_url: str,
    nats_url: str,
    nats_prefix: str,
    streams: Subjects,
    nc: Client,
) -> AsyncIterator[None]:
    await migrate_service(router_app, database_url, or_db_schema)

    async def instruments(msg: Msg) -> None:
        body = {"data": {"instruments": [INSTRUMENT.model_dump(mode="json")]}}
        await msg.respond(json.dumps(body).encode())

    sub = await nc.subscribe(streams.request("market-data", "instruments"), cb=instruments)
    settings = OrderRouterSettings(
        database_url=database_url, nats_url=nats_url, nats_prefix=nats_prefix, db_schema=or_db_schema,
        environment="test", health_port=free_port(), housekeeping_interval_s=0.2, risk_check_timeout_s=1,
        perp_settings_timeout_s=5,
    )  # fmt: skip
    runtime = router_app.build(settings)
    await runtime.start()
    try:
        yield
    finally:
        await runtime.stop()
        await sub.unsubscribe()


async def perp_trade(risk: RiskCaller, price: str, amount: str) -> None:
    trade_id = f"{time.time_ns()}"
    tick = TradeTick.model_validate(
        {"trade_id": trade_id, "ts_ns": time.time_ns(), "price": price, "amount": amount, "side": "buy"}
    )
    publisher = EventPublisher(risk.nc.jetstream(), risk.subjects, "tradeloom/market-data")
    await publisher.publish(
        TradesIngested(venue="sim", symbol=PERP, trades=[tick]),
        "sim",
        symbol_token(PERP.replace(":", "_")),
        event_id=market_data_id("sim", PERP, trade_id),
    )


def perp_order(
    account: str, side: str, quantity: str, position_side: str | None, **extra: Any
) -> dict[str, Any]:
    body = {"account_id": account, "symbol": PERP, "side": side, "type": "market", "quantity": quantity}
    return body | ({} if position_side is None else {"position_side": position_side}) | extra


async def refusal(risk: RiskCaller, body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(RemoteError) as refused:
        await orders(risk, "orders_submit", body)
    assert refused.value.code == "validation_error"
    return [(f["field"], f.get("rule", "")) for f in refused.value.details["fields"]]


async def sides(risk: RiskCaller, account: str) -> dict[str | None, D]:
    items = (await risk("positions_list", {"account_id": account}))["items"]
    return {item["position_side"]: D(item["contracts"]) for item in items if item["symbol"] == PERP}


async def filled(risk: RiskCaller, order_id: str) -> bool:
    return bool((await orders(risk, "orders_get", {"order_id": order_id}))["order"]["status"] == "filled")


async def test_long_and_short_side_by_side_the_short_closed_reduce_only_the_long_stays(
    risk: RiskCaller, perp_router: None, db_engine: AsyncEngine, rm_schema: str
) -> None:
    balances = [{"asset": "USDT", "amount": "100000"}]
    account = (await orders(risk, "accounts_create", {"name": "hedge", "balances": balances}))["account_id"]
    setting = {"account_id": account, "symbol": PERP, "leverage": "10", "margin_mode": "isolated"}
    put = await risk("perp_settings_put", setting | {"position_mode": "hedge"})
    assert (put["position_mode"], put["leverage"]) == ("hedge", "10")
    kept = await risk("perp_settings_put", setting | {"leverage": "5"})  # null position_mode: unchanged
    assert kept["position_mode"] == "hedge"
    await risk("perp_settings_put", setting)
    async with db_engine.connect() as conn:
        audited = await conn.execute(
            text(f'SELECT old_values, new_values FROM "{rm_schema}".perp_settings_changes ORDER BY id')
        )
        modes = [
            (r.old_values and r.old_values["position_mode"], r.new_values["position_mode"]) for r in audited
        ]
    assert modes == [(None, "hedge"), ("hedge", "hedge"), ("hedge", "hedge")]  # every put, audited
    assert await refusal(risk, perp_order(account, "buy", "1", None)) == [("position_side", "required")]
    await risk("perp_settings_put", setting | {"position_mode": "one_way"})
    one_way = perp_order(account, "buy", "1", "long")
    assert await refusal(risk, one_way) == [("position_side", "not_hedge_mode")]
    await risk("perp_settings_put", setting | {"position_mode": "hedge"})

    placed: list[dict[str, Any]] = []

    async def long_placed() -> bool:  # priced once the router has seen a trade
        await perp_trade(risk, "100", "0.001")
        try:
            placed.append(await orders(risk, "orders_submit", perp_order(account, "buy", "1", "long")))
        except RemoteError:
            return False
        return True

    await eventually(long_placed)
    long = placed[0]
    assert (long["status"], long["position_side"]) == ("new", "long")
    short = await orders(risk, "orders_submit", perp_order(account, "sell", "2", "short"))
    assert short["position_side"] == "short"
    await perp_trade(risk, "100", "10")
    await eventually(lambda: filled(risk, long["order_id"]))
    await eventually(lambda: filled(risk, short["order_id"]))

    async def both_folded() -> bool:
        return await sides(risk, account) == {"long": D(1), "short": D(-2)}

    await eventually(both_folded)
    exposure = await risk("exposure", {"account_id": account})
    assert (D(exposure["gross"]), D(exposure["net"])) == (D(300), D(-100))  # 100 + 200; 100 − 200
    changed = await risk.error("perp_settings_put", setting | {"position_mode": "one_way"})
    assert changed.code == "validation_error"
    assert changed.details["fields"][0]["field"] == "position_mode"

    close = await orders(risk, "orders_submit", perp_order(account, "buy", "5", "short", reduce_only=True))
    assert (D(close["quantity"]), close["status"]) == (D(2), "new")  # trimmed to the short
    again = perp_order(account, "buy", "1", "short", reduce_only=True)
    assert await refusal(risk, again) == [("reduce_only", "no_position")]  # the close already covers it
    await perp_trade(risk, "95", "10")  # the 10× long (liquidation ≈ 90.5) stays
    await eventually(lambda: filled(risk, close["order_id"]))

    async def short_closed() -> bool:
        return await sides(risk, account) == {"long": D(1), "short": D(0)}

    await eventually(short_closed)
    assert await refusal(risk, again) == [("reduce_only", "no_position")]
    still_long = perp_order(account, "sell", "1", "long", reduce_only=True)
    assert (await orders(risk, "orders_submit", still_long))["status"] == "new"  # the long is there
    positions = {
        p["position_side"]: p for p in (await risk("positions_list", {"account_id": account}))["items"]
    }
    assert D(positions["short"]["realised_pnl"]) == D(10)  # 2 × (100 − 95)
    assert D(positions["long"]["realised_pnl"]) == D(0)
