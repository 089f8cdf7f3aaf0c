"""Trailing brackets: a bracket whose stop leg is a trailing stop (``trailing_stop_percent`` or
``trailing_stop_amount``). Once the entry fills, the trailing stop and the take-profit rest as one
OCO pair with one lock; the first to fill cancels the other, once; bad inputs are 422 naming the
field; a venue account refuses it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from or_harness import Caller, Neighbours, eventually, fields
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_brackets import exits_of
from test_orders_flow import balances, open_account, priced, status_of, wait_status

from tradeloom.order_router.venue_orders import check_venue_order
from tradeloom.shared.contracts.orders import OrderSubmit
from tradeloom.shared.errors import ValidationFailed

D = Decimal


async def trailing_bracket(alice: Caller, account_id: str, **more: str) -> dict[str, Any]:
    body = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "1",
            "trailing_stop_percent": "10", "take_profit_price": "120", **more}  # fmt: skip
    return await alice("orders_submit", body)


async def resting_pair(alice: Caller, entry_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    async def two_exits() -> bool:
        return len(await exits_of(alice, entry_id)) == 2

    await eventually(two_exits)
    exits = await exits_of(alice, entry_id)
    return exits["trailing_stop"], exits["take_profit_market"]


async def cancel_events(db_engine: AsyncEngine, schema: str, order_id: str) -> int:
    """How many ``order_updated`` events say ``order_id`` was cancelled."""
    async with db_engine.connect() as conn:
        rows = await conn.execute(
            text(
                f"SELECT convert_from(payload, 'UTF8') FROM \"{schema}\".outbox "
                "WHERE subject LIKE '%order_updated%' AND position(:id in convert_from(payload, 'UTF8')) > 0"
            ),
            {"id": order_id},
        )
        return sum('"canceled"' in row[0].replace(" ", "") for row in rows)


async def test_price_rises_then_falls_the_trailing_leg_fills_and_the_take_profit_is_cancelled_once(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice, maker_fee_rate="0", taker_fee_rate="0")
    await priced(neighbours, db_engine, or_schema, "100")
    entry = await trailing_bracket(alice, account_id)
    assert (entry["trailing_stop_percent"], entry["take_profit_price"]) == ("10", "120")
    await neighbours.trade("100", "5")
    await wait_status(alice, entry["order_id"], "filled")
    trail, take = await resting_pair(alice, entry["order_id"])
    assert trail["client_order_id"].endswith("-ts") and take["client_order_id"].endswith("-tp")
    assert (trail["trailing_percent"], trail["quantity"], take["stop_price"]) == ("10", "1", "120")
    assert trail["oco_group"] == take["oco_group"] and trail["status"] == take["status"] == "new"
    assert (await balances(alice, account_id))["BTC"] == (D(0), D(1))  # one lock for the pair

    for price in ("105", "110", "100"):  # peak 110: the level is 99, not reached by 100
        await neighbours.trade(price, "5")
    await wait_status(alice, trail["order_id"], "new")
    await neighbours.trade("99", "5")
    done = await wait_status(alice, trail["order_id"], "filled")
    assert (done["average_price"], done["triggered"]) == ("99", True)
    cancelled = await status_of(alice, take["order_id"])
    assert (cancelled["status"], cancelled["reject_reason"]) == ("canceled", "oco_other_filled")
    assert await cancel_events(db_engine, or_schema, take["order_id"]) == 1
    assert await balances(alice, account_id) == {"BTC": (D(0), D(0)), "USDT": (D(9_999), D(0))}
    await neighbours.trade("130", "5")  # the cancelled take-profit stays cancelled
    assert (await status_of(alice, take["order_id"]))["status"] == "canceled"


async def test_the_take_profit_fills_first_and_the_trailing_leg_is_cancelled_once(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice, maker_fee_rate="0", taker_fee_rate="0")
    await priced(neighbours, db_engine, or_schema, "100")
    entry = await trailing_bracket(alice, account_id, trailing_stop_percent="5")
    await neighbours.trade("100", "5")
    trail, take = await resting_pair(alice, entry["order_id"])
    for price in ("104", "112", "118"):  # peak 118: the level is 112.1, each trade above it
        await neighbours.trade(price, "5")
    await neighbours.trade("121", "5")
    done = await wait_status(alice, take["order_id"], "filled")
    assert done["average_price"] == "121"
    cancelled = await status_of(alice, trail["order_id"])
    assert (cancelled["status"], cancelled["reject_reason"]) == ("canceled", "oco_other_filled")
    assert await cancel_events(db_engine, or_schema, trail["order_id"]) == 1
    assert await balances(alice, account_id) == {"BTC": (D(0), D(0)), "USDT": (D(10_021), D(0))}


async def test_the_trail_starts_at_the_entry_price(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    """As the backtest's peak starts at the entry price: a fall of 4 from an entry at 100 with
    nothing traded above it triggers a 4-unit trailing stop (level 96), as the simulator exits."""
    account_id = await open_account(alice, maker_fee_rate="0", taker_fee_rate="0")
    await priced(neighbours, db_engine, or_schema, "100")
    body = {"trailing_stop_amount": "4"}
    entry = await alice(
        "orders_submit",
        {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "1",
         "take_profit_price": "120", **body},
    )  # fmt: skip
    await neighbours.trade("100", "5")
    trail, take = await resting_pair(alice, entry["order_id"])
    assert trail["trailing_amount"] == "4"
    await neighbours.trade("96", "5")
    assert (await wait_status(alice, trail["order_id"], "filled"))["average_price"] == "96"
    assert (await status_of(alice, take["order_id"]))["status"] == "canceled"


async def test_trailing_bracket_rules(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice)
    await priced(neighbours, db_engine, or_schema, "100")
    base = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "1",
            "price": "100", "trailing_stop_percent": "10", "take_profit_price": "110"}  # fmt: skip
    by_amount = {"trailing_stop_percent": None}
    for change, expected in (
        ({"stop_loss_price": "95"}, ("trailing_stop_percent", "not_allowed")),
        ({"trailing_stop_amount": "5"}, ("trailing_stop_amount", "one_of")),
        ({"take_profit_price": None}, ("take_profit_price", "required")),
        ({**by_amount, "trailing_stop_amount": "2.3"}, ("trailing_stop_amount", "off_tick")),
        ({**by_amount, "trailing_stop_amount": "100"}, ("trailing_stop_amount", "not_below_entry")),
        ({"side": "sell"}, ("take_profit_price", "not_allowed")),
        ({"take_profit_price": None, "type": "trailing_stop"}, ("trailing_stop_percent", "not_allowed")),
        ({"time_in_force": "ioc"}, ("take_profit_price", "not_allowed")),
    ):  # fmt: skip
        error = await alice.error("orders_submit", {**base, **change})
        assert expected in fields(error), (change, error.details)
    for out_of_range in ("60", "0", "-1"):  # like a trailing order's trailing_percent: (0, 50]
        error = await alice.error("orders_submit", {**base, "trailing_stop_percent": out_of_range})
        assert error.code == "validation_error"
        assert "trailing_stop_percent" in [field for field, _ in fields(error)], error.details
    assert (await alice("orders_list", {"limit": 10}))["items"] == []  # nothing half-written


@pytest.mark.parametrize("leg", ["trailing_stop_percent", "trailing_stop_amount"])
def test_a_venue_account_refuses_a_trailing_bracket_naming_the_field(leg: str) -> None:
    body = OrderSubmit.model_validate(
        {"account_id": "a", "symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "1",
         "take_profit_price": "120", leg: "5"}
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        check_venue_order(body)
    assert "paper-only" in str(refused.value) and leg in str(refused.value.details)
