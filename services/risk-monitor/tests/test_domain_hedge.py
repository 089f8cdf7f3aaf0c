"""Hedge position mode in risk-monitor's domain: one position per (symbol, side) folded from that
side's fills whatever the delivery (hypothesis, as ``test_domain_positions`` does for one-way),
gross adding the two sides and net netting them, and a closing order passing the limits."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from test_domain_positions import fills_strategy, ingest

from tradeloom.risk_monitor.domain.exposure import Holding, summarise
from tradeloom.risk_monitor.domain.limits import Exposure, Limits, OrderCheck, refusals
from tradeloom.risk_monitor.domain.positions import Fill, Position, fold
from tradeloom.risk_monitor.folding import liquidation_fill
from tradeloom.shared.contracts.orders_perps import PerpLiquidated

D = Decimal


def by_side(delivered: list[tuple[str, Fill]]) -> dict[str, Position]:
    """What the service does: each message goes to its (symbol, side) position key."""
    routed: dict[str, list[Fill]] = defaultdict(list)
    for side, item in delivered:
        routed[side].append(item)
    return {side: ingest(items) for side, items in routed.items()}


@settings(max_examples=100, deadline=None)
@given(fills=fills_strategy, data=st.data())
def test_each_side_is_the_fold_of_its_own_fills_whatever_the_delivery(
    fills: list[Fill], data: st.DataObject
) -> None:
    tagged = [(data.draw(st.sampled_from(["long", "short"])), item) for item in fills]
    redelivered = data.draw(st.lists(st.sampled_from(tagged), max_size=10))
    delivered = data.draw(st.permutations(tagged + redelivered))
    expected = {
        side: fold(item for tag, item in tagged if tag == side).position
        for side in {tag for tag, _ in tagged}
    }
    assert by_side(delivered) == expected
    assert by_side(sorted(tagged, key=lambda t: t[1].key)) == expected  # a replay rebuilds it
    # the two sides' quantities add up to what one-way mode's single position would hold
    assert sum((p.quantity for p in expected.values()), D(0)) == fold(fills).position.quantity


def test_gross_adds_the_long_and_the_short_net_nets_them() -> None:
    summary = summarise(
        [
            Holding("BTC/USDT:USDT", "sim", D(1), D(100), "long"),
            Holding("BTC/USDT:USDT", "sim", D(-2), D(100), "short"),
            Holding("ETH/USDT", "sim", D(3), D(10)),
        ]
    )
    assert (summary.gross, summary.net) == (D(330), D(-70))
    assert summary.per_symbol == {"BTC/USDT:USDT": D(-100), "ETH/USDT": D(30)}
    assert (summary.long, summary.short) == (D(130), D(200))
    assert (summary.per_asset["BTC"].gross, summary.per_asset["BTC"].net) == (D(300), D(-100))


def test_a_hedge_closing_order_passes_the_limits_an_opening_one_is_measured() -> None:
    exposure = Exposure(symbol_quantity=D(1), open_orders=0, gross_exposure=D(300), day_pnl=D(0))
    limits = Limits(max_order_notional=D(100))
    # net long 1, but the buy closes the short (order-router trimmed it to the short)
    closing = OrderCheck("buy", D(2), D(100), D(200), closing=True)
    assert refusals(closing, exposure, limits) == []
    opening = OrderCheck("buy", D(2), D(100), D(200))
    assert refusals(opening, exposure, limits) == ["max_order_notional: 200 > 100"]


def test_a_liquidated_side_closes_that_side_only() -> None:
    event = PerpLiquidated(user_id="u", account_id="a1", venue="sim", symbol="BTC/USDT:USDT",
                           settle_asset="USDT", position_opened_ns=7, quantity=D(1), contract_size=D(1),
                           entry_price=D(100), margin=D(10), liquidation_price=D("90.5"), mark_price=D(90),
                           realised_pnl=D("-9.5"), fee=D("0.5"),
                           liquidated_at=datetime(2026, 12, 6, tzinfo=UTC),
                           position_side="long")  # fmt: skip
    fill = liquidation_fill(event).fill
    assert (fill.position_side, fill.side, fill.fill_id) == ("long", "sell", "liq:7:a1:BTC/USDT:USDT:long")
    one_way = liquidation_fill(event.model_copy(update={"position_side": None})).fill
    assert (one_way.position_side, one_way.fill_id) == (None, "liq:7:a1:BTC/USDT:USDT")
