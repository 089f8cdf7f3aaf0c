"""Tiered maintenance margin and liquidation prices: worked examples by hand, and the defining
property on random positions (hypothesis): at the liquidation price, equity == maintenance margin.

Worked example, isolated (default brackets): long 2 BTC at 30,000, leverage 10 → margin 6,000.
Bracket 1 (0.5 %, amount 0) would give (60,000 − 6,000) / (2 × 0.995) = 27,135.68, a notional of
54,271: above its 50,000 cap, so bracket 2 (1 %, amount 250) holds the answer:
(60,000 − 6,000 − 250) / (2 × 0.99) = 53,750 / 1.98 = 27,146.4646…; there the equity is
6,000 + 2 × (27,146.4646 − 30,000) = 292.9293 and the maintenance 54,292.9293 × 1 % − 250 = 292.9293.

Worked example, cross: a 10,000 USDT balance, long 1 BTC at 30,000 (mark 30,000) and short 10 ETH
at 2,000 marked at 2,100. ETH: unrealised −1,000, maintenance 21,000 × 0.5 % = 105; BTC's
collateral is 10,000 − 1,000 − 105 = 8,895, so BTC liquidates at (30,000 − 8,895) / 0.995 =
21,211.0553 (notional in bracket 1). The account: equity 9,000, maintenance 150 + 105 = 255,
margin ratio 255 / 9,000 = 2.8333 %.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.quant.margin import (
    DEFAULT_BRACKETS,
    Bracket,
    CrossPosition,
    check_brackets,
    cross_liquidation_prices,
    cross_margin,
    equity_at,
    flat_brackets,
    liquidation_price,
    maintenance_margin,
)

D = Decimal


def test_default_table_is_continuous_and_valid() -> None:
    assert check_brackets(DEFAULT_BRACKETS) is None
    for bracket in DEFAULT_BRACKETS[:-1]:
        cap = bracket.notional_cap
        assert cap is not None
        below = cap * bracket.rate - bracket.amount
        assert maintenance_margin(cap, DEFAULT_BRACKETS) == below  # no jump at the cap


def test_maintenance_margin_by_bracket() -> None:
    assert maintenance_margin(D(0), DEFAULT_BRACKETS) == 0
    assert maintenance_margin(D(40_000), DEFAULT_BRACKETS) == D(200)
    assert maintenance_margin(D(100_000), DEFAULT_BRACKETS) == D(750)  # 1,000 − 250
    assert maintenance_margin(D(10_000_000), DEFAULT_BRACKETS) == D(721_000)  # 1,000,000 − 279,000


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ((), "at least one bracket"),
        ((Bracket(None, D("0.01")), Bracket(None, D("0.02"))), "only the last"),
        ((Bracket(D(100), D("0.02")), Bracket(D(50), D("0.03"), D(2))), "notional_cap must exceed"),
        ((Bracket(D(100), D("0.02")), Bracket(None, D("0.01"))), "rate must be"),
        ((Bracket(D(100), D("0.01")), Bracket(None, D("0.02"), D(0))), "amount must be 1"),
    ],
)
def test_bad_tables_are_refused(table: tuple[Bracket, ...], error: str) -> None:
    assert error in (check_brackets(table) or "")


def test_isolated_worked_example() -> None:
    price = liquidation_price(D(2), D(30_000), D(6_000), DEFAULT_BRACKETS)
    assert price is not None
    assert price.quantize(D("0.0001")) == D("27146.4646")
    equity = equity_at(D(2), D(30_000), D(6_000), price)
    assert equity.quantize(D("0.0001")) == D("292.9293")
    assert abs(equity - maintenance_margin(2 * price, DEFAULT_BRACKETS)) < D("1e-18")


def test_flat_rate_matches_the_textbook_isolated_formula() -> None:
    """Amount 0, margin entry/leverage: long entry(1 − 1/L)/(1 − mmr), short entry(1 + 1/L)/(1 + mmr)."""
    mmr, entry = D("0.005"), D(20_000)
    long = liquidation_price(D(1), entry, entry / 20, flat_brackets(mmr))
    short = liquidation_price(D(-1), entry, entry / 20, flat_brackets(mmr))
    assert long == entry * (1 - D(1) / 20) / (1 - mmr)
    assert short == entry * (1 + D(1) / 20) / (1 + mmr)


def test_unliquidatable_long_and_flat() -> None:
    assert liquidation_price(D(1), D(100), D(100), DEFAULT_BRACKETS) == 0  # 1× long
    assert liquidation_price(D(0), D(100), D(100), DEFAULT_BRACKETS) is None


def test_cross_worked_example() -> None:
    btc = CrossPosition("BTC/USDT:USDT", D(1), D(30_000), D(30_000), DEFAULT_BRACKETS)
    eth = CrossPosition("ETH/USDT:USDT", D(-10), D(2_000), D(2_100), DEFAULT_BRACKETS)
    prices = cross_liquidation_prices(D(10_000), [btc, eth])
    assert (prices["BTC/USDT:USDT"] or D(0)).quantize(D("0.0001")) == D("21211.0553")
    account = cross_margin(D(10_000), [btc, eth])
    assert (account.equity, account.maintenance) == (D(9_000), D(255))
    assert (account.ratio or D(0)).quantize(D("0.000001")) == D("0.028333")
    assert not account.liquidating
    # at BTC's cross liquidation price, with ETH held at its mark, equity == total maintenance
    moved = cross_margin(
        D(10_000),
        [CrossPosition(btc.symbol, D(1), D(30_000), prices[btc.symbol] or D(0), DEFAULT_BRACKETS), eth],
    )
    assert abs(moved.equity - moved.maintenance) < D("1e-18")


amounts = st.decimals(min_value=D("0.001"), max_value=D(5_000), places=3)
prices = st.decimals(min_value=D(1), max_value=D(100_000), places=2)
leverages = st.integers(min_value=1, max_value=125)


@settings(max_examples=150, deadline=None)
@given(quantity=amounts, long=st.booleans(), entry=prices, leverage=leverages)
def test_liquidation_price_is_where_equity_meets_maintenance(
    quantity: Decimal, long: bool, entry: Decimal, leverage: int
) -> None:
    signed = quantity if long else -quantity
    collateral = quantity * entry / leverage
    price = liquidation_price(signed, entry, collateral, DEFAULT_BRACKETS)
    assert price is not None
    if price == 0:  # a long that no positive price liquidates
        assert long
        assert equity_at(signed, entry, collateral, D(0)) >= 0
        return
    notional = quantity * price
    gap = equity_at(signed, entry, collateral, price) - maintenance_margin(notional, DEFAULT_BRACKETS)
    assert abs(gap) <= notional * D("1e-20") + D("1e-18")
    # one step on the safe side is safe, one step beyond is not
    step = price / 1000
    safe, beyond = (price + step, price - step) if long else (price - step, price + step)
    assert equity_at(signed, entry, collateral, safe) > maintenance_margin(quantity * safe, DEFAULT_BRACKETS)
    assert equity_at(signed, entry, collateral, beyond) < maintenance_margin(
        quantity * beyond, DEFAULT_BRACKETS
    )
