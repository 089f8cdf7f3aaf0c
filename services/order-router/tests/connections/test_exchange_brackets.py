"""Brackets on an exchange account (the emulated OCO pair), through the real ccxt library against the
stand-in Binance spot venue: the entry's fill opens a stop-loss and a take-profit at the venue; the
first to fill has the other cancelled at the venue; cancelling one cancels both there."""

from decimal import Decimal
from typing import Any

from or_harness import Caller, eventually, fields
from venue_harness import DEADLINE_S, exchange_account, order_status, submit_when_ready, venue_orders


def bracket(account_id: str, client_id: str) -> dict[str, Any]:
    return {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit",
            "quantity": "0.01", "price": "50000", "client_order_id": client_id,
            "stop_loss_price": "45000", "take_profit_price": "55000"}  # fmt: skip


async def legs(trader: Caller, entry_id: str) -> dict[str, dict[str, Any]]:
    items = (await trader("orders_list", {"limit": 50}))["items"]
    return {o["type"]: o for o in items if o["parent_order_id"] == entry_id}


async def venue_status(standin: Any, client_id: str) -> list[tuple[str, str]]:
    return [(o["type"], o["status"]) for o in await venue_orders(standin, client_id)]


async def resting_pair(trader: Caller, standin: Any, account_id: str, client_id: str) -> dict[str, Any]:
    """A bracket entry filled at the venue, its two exits resting there: the legs by type."""
    entry = await submit_when_ready(trader, bracket(account_id, client_id))
    assert entry["status"] == "new"
    await standin.control("fill", symbol="BTCUSDT", clientOrderId=client_id)

    async def both_rest() -> bool:
        found = await legs(trader, entry["order_id"])
        return len(found) == 2 and all(o["status"] == "new" for o in found.values())

    await eventually(both_rest, DEADLINE_S)
    assert await venue_status(standin, f"{client_id}-sl") == [("STOP_LOSS", "NEW")]
    assert await venue_status(standin, f"{client_id}-tp") == [("TAKE_PROFIT", "NEW")]
    return await legs(trader, entry["order_id"])


async def test_the_take_profit_fills_at_the_venue_and_the_stop_is_cancelled_there(
    trader: Caller, standin_venue: Any
) -> None:
    account_id = await exchange_account(trader, standin_venue)
    pair = await resting_pair(trader, standin_venue, account_id, "br-1")
    stop, take = pair["stop_market"], pair["take_profit_market"]
    assert (stop["stop_price"], take["stop_price"], stop["quantity"]) == ("45000", "55000", "0.01")
    assert stop["oco_group"] == take["oco_group"]
    before = {
        b["asset"]: b for b in (await trader("accounts_balances", {"account_id": account_id}))["balances"]
    }
    assert Decimal(before["BTC"]["locked"]) == Decimal("0.01")  # one lock for the pair
    await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="br-1-tp", price="55000")

    async def stop_cancelled() -> bool:
        return await order_status(trader, stop["order_id"]) == "canceled"

    await eventually(stop_cancelled, DEADLINE_S)
    assert await order_status(trader, take["order_id"]) == "filled"
    assert await venue_status(standin_venue, "br-1-sl") == [("STOP_LOSS", "CANCELED")]
    fills = (await trader("fills_list", {"account_id": account_id}))["items"]
    assert sorted((f["side"], f["price"], f["quantity"]) for f in fills) == [
        ("buy", "50000", "0.01"), ("sell", "55000", "0.01")
    ]  # fmt: skip
    after = {
        b["asset"]: b for b in (await trader("accounts_balances", {"account_id": account_id}))["balances"]
    }
    assert Decimal(after["BTC"]["locked"]) == 0 and Decimal(after["USDT"]["locked"]) == 0
    assert len(await venue_orders(standin_venue, "br-1-tp")) == 1  # each leg sent once


async def test_cancelling_one_exit_cancels_both_at_the_venue_and_a_trailing_leg_is_refused(
    trader: Caller, standin_venue: Any
) -> None:
    account_id = await exchange_account(trader, standin_venue)
    pair = await resting_pair(trader, standin_venue, account_id, "br-2")
    await trader("orders_cancel", {"order_id": pair["stop_market"]["order_id"]})

    async def both_cancelled() -> bool:
        return [await order_status(trader, o["order_id"]) for o in pair.values()] == ["canceled"] * 2

    await eventually(both_cancelled, DEADLINE_S)
    assert await venue_status(standin_venue, "br-2-sl") == [("STOP_LOSS", "CANCELED")]
    assert await venue_status(standin_venue, "br-2-tp") == [("TAKE_PROFIT", "CANCELED")]
    trailing = bracket(account_id, "br-3") | {"stop_loss_price": None, "trailing_stop_percent": "5"}
    error = await trader.error("orders_submit", trailing)
    assert (error.code, fields(error)) == ("validation_error", [("trailing_stop_percent", "")])
    assert await venue_orders(standin_venue, "br-3") == []
