"""Orders on an exchange account through the real ccxt library against the stand-in venue."""

from typing import Any

from or_harness import Caller, Neighbours, eventually
from venue_harness import (
    DEADLINE_S,
    exchange_account,
    limit_buy,
    order_status,
    submit_when_ready,
    venue_orders,
)


async def test_order_reaches_the_venue_and_its_fill_is_applied_once(
    trader: Caller, standin_venue: Any
) -> None:
    account_id = await exchange_account(trader, standin_venue)
    first = await submit_when_ready(trader, limit_buy(account_id, "ex-1"))
    assert first["status"] == "new"
    assert [o["status"] for o in await venue_orders(standin_venue, "ex-1")] == ["NEW"]
    await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="ex-1")

    async def filled(order_id: str) -> bool:
        return await order_status(trader, order_id) == "filled"

    await eventually(lambda: filled(first["order_id"]), DEADLINE_S)
    # a second order filled later: the first one's fill is still there once
    second = await submit_when_ready(trader, limit_buy(account_id, "ex-2"))
    await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="ex-2")
    await eventually(lambda: filled(second["order_id"]), DEADLINE_S)
    fills = (await trader("fills_list", {"account_id": account_id}))["items"]
    assert sorted(f["order_id"] for f in fills) == sorted([first["order_id"], second["order_id"]])
    assert {(f["price"], f["quantity"]) for f in fills} == {("40000", "0.01")}
    balances = {
        b["asset"]: b for b in (await trader("accounts_balances", {"account_id": account_id}))["balances"]
    }
    assert balances["USDT"]["locked"] == "0"
    # a trailing stop by price distance: venues trail by percent (test_exchange_trailing.py)
    by_amount = {"type": "trailing_stop", "price": None, "trailing_amount": "500"}
    error = await trader.error("orders_submit", limit_buy(account_id, "ex-3") | by_amount)
    assert error.details["fields"][0]["field"] == "trailing_amount"


async def test_an_unanswered_order_is_found_by_client_id_never_sent_twice(
    trader: Caller, standin_venue: Any
) -> None:
    account_id = await exchange_account(trader, standin_venue)
    await submit_when_ready(trader, limit_buy(account_id, "warm-up"))  # the account is reconciled
    await standin_venue.control("hang_next_order", seconds=8)
    hung = await trader("orders_submit", limit_buy(account_id, "ex-hang"))
    assert hung["status"] == "pending_new"  # no answer in time: outcome unknown, kept for reconcile

    async def accepted() -> bool:
        return await order_status(trader, hung["order_id"]) == "new"

    await eventually(accepted, DEADLINE_S)
    assert len(await venue_orders(standin_venue, "ex-hang")) == 1
    again = await submit_when_ready(trader, limit_buy(account_id, "ex-hang"))
    assert (again["order_id"], again["status"]) == (hung["order_id"], "new")
    assert len(await venue_orders(standin_venue, "ex-hang")) == 1


async def test_refused_cancelled_and_halted_orders(
    trader: Caller, standin_venue: Any, neighbours: Neighbours
) -> None:
    account_id = await exchange_account(trader, standin_venue)
    await submit_when_ready(trader, limit_buy(account_id, "warm-up"))
    await standin_venue.control("reject_next_order")  # Binance -2010: the venue refuses the order
    refused = await trader("orders_submit", limit_buy(account_id, "ex-refused"))
    assert (refused["status"], refused["reject_reason"]) == ("rejected", "venue_invalid_order")
    resting = await trader("orders_submit", limit_buy(account_id, "ex-cancel"))
    amend = {"order_id": resting["order_id"], "price": "39000"}
    assert (await trader.error("orders_amend", amend)).code == "conflict"  # not behind the venue's back
    assert (await trader.error("accounts_reset", {"account_id": account_id})).code == "conflict"
    assert (await trader.error("accounts_archive", {"account_id": account_id})).code == "conflict"
    canceled = await trader("orders_cancel", {"order_id": resting["order_id"]})
    assert canceled["status"] == "canceled"
    assert [o["status"] for o in await venue_orders(standin_venue, "ex-cancel")] == ["CANCELED"]
    halted = await trader("orders_submit", limit_buy(account_id, "ex-halted"))
    await neighbours.halt("user", "alice")

    async def canceled_at_venue() -> bool:
        return [o["status"] for o in await venue_orders(standin_venue, "ex-halted")] == ["CANCELED"]

    await eventually(canceled_at_venue, DEADLINE_S)
    await eventually(lambda: status_is(trader, halted["order_id"], "canceled"), DEADLINE_S)


async def status_is(trader: Caller, order_id: str, status: str) -> bool:
    return await order_status(trader, order_id) == status
