"""Positions are the fold of their fills whatever the delivery order, duplicates and redeliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.risk_monitor.domain.positions import Fill, Position, apply, fold, needs_refold

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def fill(n: int, side: str, price: str, quantity: str, fee: str = "0", seconds: int | None = None) -> Fill:
    at = T0 + timedelta(seconds=n if seconds is None else seconds)
    return Fill(f"f{n}", side, Decimal(price), Decimal(quantity), Decimal(fee), at)  # type: ignore[arg-type]


def test_long_then_partial_close_realises_pnl_and_keeps_entry() -> None:
    folded = fold(
        [fill(1, "buy", "100", "2", "0.2"), fill(2, "buy", "110", "2"), fill(3, "sell", "120", "1")]
    )
    position = folded.position
    assert position.quantity == Decimal(3)
    assert position.average_entry == Decimal(105)
    assert position.realised_pnl == Decimal(15)
    assert position.fees == Decimal("0.2")
    assert folded.realised_by_fill == {"f1": 0, "f2": 0, "f3": Decimal(15)}


def test_short_and_flip_through_zero() -> None:
    position = fold([fill(1, "sell", "100", "1"), fill(2, "buy", "90", "3")]).position
    assert position.quantity == Decimal(2)
    assert position.average_entry == Decimal(90)  # the rest opened at the flip's price
    assert position.realised_pnl == Decimal(10)  # the short gained 10


def test_closing_to_zero_clears_the_entry() -> None:
    position = fold([fill(1, "buy", "100", "1"), fill(2, "sell", "95", "1", "0.1")]).position
    assert (position.quantity, position.average_entry, position.realised_pnl) == (0, 0, Decimal(-5))


def test_reduces_is_only_against_the_position_and_never_past_it() -> None:
    long = Position(quantity=Decimal(2))
    assert long.reduces("sell", Decimal(2))
    assert not long.reduces("sell", Decimal("2.1"))
    assert not long.reduces("buy", Decimal(1))
    assert not Position().reduces("sell", Decimal(1))
    assert Position(quantity=Decimal(-1)).reduces("buy", Decimal("0.5"))


def ingest(delivered: list[Fill]) -> Position:
    """What the service does per message: skip a known id, extend in order, else fold the stored fills."""
    stored: dict[str, Fill] = {}
    position = Position()
    for item in delivered:
        if item.fill_id in stored:
            continue
        stored[item.fill_id] = item
        if needs_refold(position, item):
            position = fold(stored.values()).position
        else:
            position, _ = apply(position, item)
    return position


prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100_000), places=2)
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(50), places=3)
fills_strategy = st.lists(
    st.tuples(st.sampled_from(["buy", "sell"]), prices, quantities, st.integers(0, 20)),
    min_size=1,
    max_size=25,
).map(
    lambda rows: [
        Fill(
            f"f{i}",
            side,
            price,
            qty,
            (price * qty / 1000).quantize(Decimal("0.00000001")),
            T0 + timedelta(seconds=second),
        )
        for i, (side, price, qty, second) in enumerate(rows)
    ]
)


@settings(max_examples=300, deadline=None)
@given(fills=fills_strategy, data=st.data())
def test_position_is_the_fold_whatever_the_delivery(fills: list[Fill], data: st.DataObject) -> None:
    redelivered = data.draw(st.lists(st.sampled_from(fills), max_size=10))
    delivered = data.draw(st.permutations(fills + redelivered))
    expected = fold(fills).position
    assert ingest(delivered) == expected
    assert ingest(sorted(fills, key=lambda f: f.key)) == expected  # a replay rebuilds identical state
    assert fold(reversed(delivered)).position == expected


def test_the_fold_ignores_the_ambient_decimal_context() -> None:
    """ccxt leaves the thread's context rounding half-up: (3 × 101.333…333 + 3 × 100) / 6 has a 5 in
    its 19th decimal, so the average entry would then be 1e-18 away from the same fold elsewhere."""
    fills = [fill(1, "buy", "100", "1"), fill(2, "buy", "102", "2"), fill(3, "buy", "100", "3")]
    expected = Decimal("100.666666666666666666")  # half-even
    assert fold(fills).position.average_entry == expected
    with localcontext() as ambient:
        ambient.rounding = ROUND_HALF_UP
        ambient.prec = 10
        assert fold(fills).position.average_entry == expected
