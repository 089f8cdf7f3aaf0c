"""The paper exchange applies a batch of trade messages at once: every trade in stream order meets
every open order its prices may reach; orders they cannot reach are skipped (``may_match``)."""

from __future__ import annotations

import time
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from or_harness import Caller, Neighbours
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import open_account, priced, status_of

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.domain.matching import PaperOrder, Trade, match, may_match
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.paper import PaperMatcher
from tradeloom.shared.contracts.market_data import TradesIngested, TradeTick
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.subjects import Subjects

D = Decimal
TYPES = ["market", "limit", "stop_market", "stop_limit", "take_profit_market", "take_profit_limit"]
prices = st.integers(min_value=90, max_value=110).map(Decimal)


@settings(deadline=None, max_examples=300)  # the first call compiles the quant kernels
@given(
    side=st.sampled_from(["buy", "sell"]),
    kind=st.sampled_from(TYPES),
    triggered=st.booleans(),
    level=prices,
    limit=prices,
    trades=st.lists(prices, min_size=1, max_size=6),
)
def test_an_order_may_match_skips_is_never_changed_by_those_trades(
    side: str, kind: str, triggered: bool, level: Decimal, limit: Decimal, trades: list[Decimal]
) -> None:
    order = PaperOrder(
        side=side, type=kind, status=states.NEW, quantity=D(1), filled_quantity=D(0), locked=D(1000),
        time_in_force="gtc", accepted_ns=0, price=limit if "limit" in kind else None,
        stop_price=level if kind not in ("market", "limit") else None, triggered=triggered,
    )  # fmt: skip
    if may_match(order, min(trades), max(trades), len(trades)):
        return
    costs = AccountCosts(maker_rate=D("0.001"), taker_rate=D("0.002"))
    for n, price in enumerate(trades, start=1):
        assert match(order, Trade(price, D(5), n), costs, D("0.001")) is None


def batch(*messages: list[tuple[str, str]]) -> list[Envelope]:
    """One trade message per list of (price, amount), timestamps rising in stream order."""
    envelopes = []
    for m, trades in enumerate(messages):
        ticks = [
            TradeTick.model_validate(
                {"trade_id": f"t{m}-{k}", "ts_ns": time.time_ns(), "price": p, "amount": a, "side": "buy"}
            )
            for k, (p, a) in enumerate(trades)
        ]
        event = TradesIngested(venue="sim", symbol="BTC/USDT", trades=ticks)
        envelopes.append(Envelope.wrap(event, source="tradeloom/market-data"))
    return envelopes


async def test_a_batch_fills_across_its_messages_in_stream_order(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice, maker_fee_rate="0", taker_fee_rate="0")
    await priced(neighbours, db_engine, or_schema, "100")
    base = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "quantity": "1"}
    resting = await alice("orders_submit", {**base, "type": "limit", "price": "95"})
    far = await alice("orders_submit", {**base, "type": "limit", "price": "80"})
    market = await alice("orders_submit", {**base, "type": "market", "quantity": "0.2"})
    # applied here as the consumer would, in one transaction (no trade reaches the stream)
    matcher = PaperMatcher(Ledger(or_schema, Outbox(or_schema, Subjects("t"), "tests")), or_schema)
    async with db_engine.begin() as conn:
        await matcher.on_trades(conn, batch([("99", "0.1")], [("96", "1"), ("95", "0.4")], [("94.5", "5")]))

    async def fills(order: dict[str, str]) -> list[tuple[Decimal, Decimal]]:
        detail = await alice("orders_get", {"order_id": order["order_id"]})
        return sorted((D(f["price"]), D(f["quantity"])) for f in detail["fills"])

    assert await fills(market) == [(D(96), D("0.1")), (D(99), D("0.1"))]  # the first two trades
    assert await fills(resting) == [(D("94.5"), D("0.6")), (D(95), D("0.4"))]  # from 95 down
    assert await fills(far) == []
    assert (await status_of(alice, resting["order_id"]))["status"] == "filled"
    assert (await status_of(alice, far["order_id"]))["status"] == "new"
