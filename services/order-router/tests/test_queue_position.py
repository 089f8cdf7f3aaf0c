"""Queue position: a resting limit order of an account that asks for it fills only after the volume
ahead of it at its price (market-data's book at acceptance) has traded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from or_harness import Caller, Neighbours, eventually
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import open_account, priced, status_of

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.domain.matching import PaperOrder, Trade, match

D = Decimal
COSTS = AccountCosts(maker_rate=D(0), taker_rate=D(0))


def resting(ahead: str | None) -> PaperOrder:
    return PaperOrder(side="buy", type="limit", status=states.NEW, quantity=D(1), filled_quantity=D(0),
                      locked=D(1000), time_in_force="gtc", accepted_ns=0, price=D(100),
                      queue_ahead=None if ahead is None else D(ahead))  # fmt: skip


def test_trades_at_the_price_go_to_the_volume_ahead_first() -> None:
    order = resting("3")
    first = match(order, Trade(D(100), D(2), 1), COSTS, D("0.001"))
    assert first is not None and first.fill is None and first.order.queue_ahead == D(1)
    second = match(first.order, Trade(D(100), D("1.5"), 2), COSTS, D("0.001"))
    assert second is not None and second.fill is not None
    assert (second.fill.quantity, second.order.queue_ahead, second.statuses) == (
        D("0.5"), D(0), (states.PARTIALLY_FILLED,),
    )  # fmt: skip
    assert match(first.order, Trade(D("100.5"), D(9), 2), COSTS, D("0.001")) is None  # not reached


def test_a_trade_through_the_price_means_nothing_is_ahead_any_more() -> None:
    outcome = match(resting("3"), Trade(D("99.5"), D(2), 1), COSTS, D("0.001"))
    assert outcome is not None and outcome.fill is not None
    assert (outcome.fill.quantity, outcome.order.queue_ahead) == (D(1), D(0))
    plain = match(resting(None), Trade(D(100), D(2), 1), COSTS, D("0.001"))  # an account without it
    assert plain is not None and plain.fill is not None and plain.fill.quantity == D(1)


async def test_a_queue_position_account_waits_for_the_book_ahead(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    neighbours.bids = [("100.5", "4"), ("100", "2"), ("99.5", "7")]
    account_id = await open_account(alice, queue_position=True, maker_fee_rate="0")
    assert (await alice("accounts_get", {"account_id": account_id}))["queue_position"] is True
    await priced(neighbours, db_engine, or_schema, "101")
    body: dict[str, Any] = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit",
                            "quantity": "1", "price": "100"}  # fmt: skip
    order = await alice("orders_submit", body)
    assert order["queue_ahead"] == "2"  # the book's level at its price

    async def ahead(value: str) -> bool:
        return bool((await status_of(alice, order["order_id"]))["queue_ahead"] == value)

    await neighbours.trade("100", "1.5")
    await eventually(lambda: ahead("0.5"))
    assert (await status_of(alice, order["order_id"]))["status"] == "new"
    await neighbours.trade("100", "1")
    await eventually(lambda: ahead("0"))
    assert (await status_of(alice, order["order_id"]))["filled_quantity"] == "0.5"
