"""Reduce-only orders on spot (a buy refused, a sell trimmed to the free base) and the venue's
limit price band (a price outside it: 422 naming ``price`` and the band), as rules and through the
service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client
from or_harness import Caller, Neighbours, eventually, fields
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import balances, open_account, priced

from tradeloom.order_router import app
from tradeloom.order_router.domain.reduce_only import apply_reduce_only
from tradeloom.order_router.domain.validation import band_problems
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.contracts.market_data import Instrument
from tradeloom.shared.contracts.orders import OrderSubmit
from tradeloom.shared.rpc import ServiceClient

D = Decimal
BTC = Instrument(venue="sim", symbol="BTC/USDT", kind="spot", base="BTC", quote="USDT",
                 tick_size=D("0.5"), lot_size=D("0.01"), min_notional=D(10))  # fmt: skip


def sell(quantity: str, **more: Any) -> OrderSubmit:
    return OrderSubmit.model_validate(
        {"account_id": "a", "symbol": "BTC/USDT", "side": "sell", "type": "market", "quantity": quantity,
         "reduce_only": True, **more}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("order", "free", "kept", "problem"),
    [
        (sell("0.5"), {"BTC": D(1)}, D("0.5"), None),  # within the holding: unchanged
        (sell("3"), {"BTC": D("1.237")}, D("1.23"), None),  # trimmed to the free lots
        (sell("1"), {"BTC": D("0.009")}, None, ("reduce_only", "no_position")),  # not one lot held
        (sell("1"), {}, None, ("reduce_only", "no_position")),
        (sell("1", side="buy"), {"BTC": D(1)}, None, ("reduce_only", "would_increase_position")),
        (sell("3", reduce_only=False), {"BTC": D(1)}, D(3), None),  # not reduce-only: left to the funds check
    ],
)
def test_reduce_only_rule(
    order: OrderSubmit, free: dict[str, Decimal], kept: Decimal | None, problem: tuple[str, str] | None
) -> None:
    result, problems = apply_reduce_only(order, BTC, free)
    assert [(p.field, p.rule) for p in problems] == ([problem] if problem else [])
    if kept is not None:
        assert result.quantity == kept


@pytest.mark.parametrize(
    ("price", "last", "band", "refused"),
    [
        (D(90), D(100), D("0.1"), False),  # the edges are inside
        (D(110), D(100), D("0.1"), False),
        (D("89.5"), D(100), D("0.1"), True),
        (D("110.5"), D(100), D("0.1"), True),
        (D(10), D(100), None, False),  # the venue has no band
        (D(10), None, D("0.1"), False),  # no price seen yet: nothing to measure from
        (None, D(100), D("0.1"), False),  # a market order has no limit price
    ],
)
def test_price_band_rule(
    price: Decimal | None, last: Decimal | None, band: Decimal | None, refused: bool
) -> None:
    problems = band_problems(price, last, band)
    assert [(p.field, p.rule) for p in problems] == ([("price", "outside_price_band")] if refused else [])


@pytest.fixture
async def banded(
    or_settings: OrderRouterSettings, neighbours: Neighbours, nc: Client
) -> AsyncIterator[Caller]:
    """order-router with a ±10 % limit price band on the ``sim`` venue."""
    runtime = app.build(or_settings.model_copy(update={"price_bands": {"sim": D("0.1")}}))
    await runtime.start()
    try:
        yield Caller(ServiceClient(nc, neighbours.subjects), "alice")
    finally:
        await runtime.stop()


async def test_reduce_only_and_price_band_through_the_service(
    banded: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    alice = banded
    account_id = await open_account(
        alice, balances=[{"asset": "USDT", "amount": "10000"}, {"asset": "BTC", "amount": "0.5"}]
    )
    await priced(neighbours, db_engine, or_schema, "100")
    base = {"account_id": account_id, "symbol": "BTC/USDT", "quantity": "0.2"}
    limit = {**base, "side": "buy", "type": "limit"}
    for price in ("89.5", "111"):  # outside 100 ± 10 %: refused naming the band, nothing written
        error = await alice.error("orders_submit", {**limit, "price": price})
        assert error.code == "validation_error" and fields(error) == [("price", "outside_price_band")]
        assert "[90, 110]" in error.message
    placed = await alice("orders_submit", {**limit, "price": "90"})
    assert placed["status"] == "new"
    amend = await alice.error("orders_amend", {"order_id": placed["order_id"], "price": "80"})
    assert fields(amend) == [("price", "outside_price_band")]

    buy = await alice.error("orders_submit", {**base, "side": "buy", "type": "market", "reduce_only": True})
    assert fields(buy) == [("reduce_only", "would_increase_position")]
    order = {**base, "side": "sell", "type": "limit", "price": "105", "reduce_only": True}
    first = await alice("orders_submit", {**order, "quantity": "0.3"})
    assert first["quantity"] == "0.3"
    second = await alice("orders_submit", {**order, "quantity": "0.4"})  # 0.2 is left unpromised
    assert (second["quantity"], second["reduce_only"]) == ("0.2", True)
    third = await alice.error("orders_submit", {**order, "quantity": "0.1"})
    assert fields(third) == [("reduce_only", "no_position")]
    assert (await balances(alice, account_id))["BTC"] == (D(0), D("0.5"))


async def test_the_registry_band_of_an_instrument_wins_over_the_venue_setting(
    banded: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    """SOL/USDT has ``price_band_pct`` 5 in market-data's registry; the venue setting (±10 %)
    applies only to instruments without one (BTC/USDT above)."""
    alice = banded
    account_id = await open_account(alice)
    await neighbours.trade("100", "0.01", symbol="SOL/USDT")

    async def priced_sol() -> bool:
        async with db_engine.connect() as conn:
            found = await conn.execute(
                text(f"SELECT 1 FROM \"{or_schema}\".last_prices WHERE symbol = 'SOL/USDT'")
            )
            return found.first() is not None

    await eventually(priced_sol)
    limit = {"account_id": account_id, "symbol": "SOL/USDT", "side": "buy", "type": "limit", "quantity": "1"}
    for price in ("94.99", "105.01"):  # inside the setting's ±10 %, outside the registry's ±5 %
        error = await alice.error("orders_submit", {**limit, "price": price})
        assert fields(error) == [("price", "outside_price_band")] and "[95, 105]" in error.message
    placed = await alice("orders_submit", {**limit, "price": "95"})
    assert placed["status"] == "new"
    amend = await alice.error("orders_amend", {"order_id": placed["order_id"], "price": "94"})
    assert fields(amend) == [("price", "outside_price_band")]
    moved = await alice("orders_amend", {"order_id": placed["order_id"], "price": "104"})
    assert moved["price"] == "104"
