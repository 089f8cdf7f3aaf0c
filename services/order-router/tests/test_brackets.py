"""Bracket orders: the entry fills, its stop-loss and take-profit exits open as an OCO pair; the
first exit to fill cancels the other; cancelling one cancels both; funds stay consistent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from or_harness import Caller, Neighbours, eventually, fields
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import balances, open_account, priced, status_of, wait_status

D = Decimal


async def exits_of(alice: Caller, entry_id: str) -> dict[str, dict[str, Any]]:
    items = (await alice("orders_list", {"limit": 50}))["items"]
    return {o["type"]: o for o in items if o["parent_order_id"] == entry_id}


async def bracket(alice: Caller, account_id: str) -> dict[str, Any]:
    body = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "1",
            "stop_loss_price": "95", "take_profit_price": "110"}  # fmt: skip
    return await alice("orders_submit", body)


async def test_take_profit_fills_and_cancels_the_stop(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice, maker_fee_rate="0", taker_fee_rate="0")
    await priced(neighbours, db_engine, or_schema, "100")
    entry = await bracket(alice, account_id)
    await neighbours.trade("100", "5")
    await wait_status(alice, entry["order_id"], "filled")

    async def two_exits() -> bool:
        return len(await exits_of(alice, entry["order_id"])) == 2

    await eventually(two_exits)
    exits = await exits_of(alice, entry["order_id"])
    stop, take = exits["stop_market"], exits["take_profit_market"]
    assert (stop["stop_price"], take["stop_price"], stop["quantity"]) == ("95", "110", "1")
    assert stop["oco_group"] == take["oco_group"] and stop["status"] == take["status"] == "new"
    assert (await balances(alice, account_id))["BTC"] == (D(0), D(1))  # one lock for the pair

    await neighbours.trade("111", "5")
    done = await wait_status(alice, take["order_id"], "filled")
    assert done["average_price"] == "111"
    stopped = await status_of(alice, stop["order_id"])
    assert (stopped["status"], stopped["reject_reason"]) == ("canceled", "oco_other_filled")
    assert await balances(alice, account_id) == {"BTC": (D(0), D(0)), "USDT": (D(10_011), D(0))}


async def test_cancelling_one_exit_cancels_the_pair(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice)
    await priced(neighbours, db_engine, or_schema, "100")
    entry = await bracket(alice, account_id)
    await neighbours.trade("100", "5")

    async def two_exits() -> bool:
        return len(await exits_of(alice, entry["order_id"])) == 2

    await eventually(two_exits)
    exits = await exits_of(alice, entry["order_id"])
    await alice("orders_cancel", {"order_id": exits["take_profit_market"]["order_id"]})
    stopped = await status_of(alice, exits["stop_market"]["order_id"])
    assert (stopped["status"], stopped["reject_reason"]) == ("canceled", "oco_pair_done")
    assert (await balances(alice, account_id))["BTC"] == (D(1), D(0))  # the lock came back once


async def test_bracket_rules(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice)
    await priced(neighbours, db_engine, or_schema, "100")
    base = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "1",
            "price": "100", "stop_loss_price": "95", "take_profit_price": "110"}  # fmt: skip
    for change, expected in (
        ({"stop_loss_price": "101"}, ("stop_loss_price", "not_below_entry")),
        ({"take_profit_price": "99.5"}, ("take_profit_price", "not_above_entry")),
        ({"take_profit_price": None}, ("take_profit_price", "required")),
        ({"stop_loss_price": "95.3"}, ("stop_loss_price", "off_tick")),
        ({"side": "sell"}, ("stop_loss_price", "not_allowed")),
    ):
        error = await alice.error("orders_submit", {**base, **change})
        assert expected in fields(error), (change, error.details)


async def test_an_entry_ended_by_a_halt_opens_no_exits(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice, maker_fee_rate="0", taker_fee_rate="0")
    await priced(neighbours, db_engine, or_schema, "101")
    body = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "1",
            "price": "100", "stop_loss_price": "95", "take_profit_price": "110"}  # fmt: skip
    entry = await alice("orders_submit", body)
    await neighbours.trade("100", "0.4")
    await wait_status(alice, entry["order_id"], "partially_filled")
    await neighbours.halt("user", "alice")
    await wait_status(alice, entry["order_id"], "canceled")
    assert await exits_of(alice, entry["order_id"]) == {}
    assert await balances(alice, account_id) == {"BTC": (D("0.4"), D(0)), "USDT": (D(9960), D(0))}
