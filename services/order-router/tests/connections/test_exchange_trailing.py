"""Trailing stops on an exchange account (issue 11), through the real ccxt library against the
stand-in Binance venue: spot as ``STOP_LOSS`` with ``trailingDelta`` (bips), never a local trigger;
its fill applied once; an unanswered one found by its client id, never sent twice; a trailing
amount or a percentage off the venue's steps refused naming the field, nothing sent."""

from typing import Any

from or_harness import Caller, Neighbours, eventually, fields
from venue_harness import DEADLINE_S, exchange_account, order_status, submit_when_ready, venue_orders


def trailing_sell(account_id: str, client_id: str, **trail: str) -> dict[str, Any]:
    return {"account_id": account_id, "symbol": "BTC/USDT", "side": "sell", "type": "trailing_stop",
            "quantity": "0.01", "client_order_id": client_id, **trail}  # fmt: skip


async def priced(trader: Caller, standin: Any, neighbours: Neighbours) -> str:
    """An exchange account, and a Binance trade seen (a stop's lock is priced at the last trade)."""
    account_id = await exchange_account(trader, standin)
    await neighbours.trade("50000", "0.1", venue="binance")
    return account_id


async def test_a_spot_trailing_stop_rests_natively_and_fills_once(
    trader: Caller, standin_venue: Any, neighbours: Neighbours
) -> None:
    account_id = await priced(trader, standin_venue, neighbours)
    placed = await submit_when_ready(trader, trailing_sell(account_id, "tr-1", trailing_percent="2.5"))
    assert placed["status"] == "new"
    [at_venue] = await venue_orders(standin_venue, "tr-1")
    assert (at_venue["type"], at_venue["side"], at_venue["trailingDelta"]) == ("STOP_LOSS", "SELL", 250)
    await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="tr-1", price="48750")

    async def filled() -> bool:
        return await order_status(trader, placed["order_id"]) == "filled"

    await eventually(filled, DEADLINE_S)
    fills = (await trader("fills_list", {"account_id": account_id}))["items"]
    assert [(f["side"], f["price"], f["quantity"]) for f in fills] == [("sell", "48750", "0.01")]
    assert len(await venue_orders(standin_venue, "tr-1")) == 1


async def test_refusals_name_the_field_and_send_nothing(
    trader: Caller, standin_venue: Any, neighbours: Neighbours
) -> None:
    account_id = await priced(trader, standin_venue, neighbours)
    await submit_when_ready(trader, trailing_sell(account_id, "warm-up", trailing_percent="5"))
    cases = [
        ({"trailing_amount": "500"}, "trailing_amount"),  # the venue trails by percent
        ({"trailing_percent": "2.555"}, "trailing_percent"),  # not a whole bip: never rounded
        ({"trailing_percent": "25"}, "trailing_percent"),  # Binance spot: 0.1..20 %
    ]
    for n, (trail, field) in enumerate(cases):
        error = await trader.error("orders_submit", trailing_sell(account_id, f"tr-bad-{n}", **trail))
        assert (error.code, fields(error)[0][0]) == ("validation_error", field)
        assert await venue_orders(standin_venue, f"tr-bad-{n}") == []


async def test_an_unanswered_trailing_stop_is_found_by_client_id(
    trader: Caller, standin_venue: Any, neighbours: Neighbours
) -> None:
    account_id = await priced(trader, standin_venue, neighbours)
    await submit_when_ready(trader, trailing_sell(account_id, "warm-up", trailing_percent="5"))
    await standin_venue.control("hang_next_order", seconds=8)
    hung = await trader("orders_submit", trailing_sell(account_id, "tr-hang", trailing_percent="1"))
    assert hung["status"] == "pending_new"

    async def accepted() -> bool:
        return await order_status(trader, hung["order_id"]) == "new"

    await eventually(accepted, DEADLINE_S)
    assert [o["trailingDelta"] for o in await venue_orders(standin_venue, "tr-hang")] == [100]
