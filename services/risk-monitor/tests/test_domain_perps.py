"""Perpetuals' margin and liquidation price, against examples computed by hand."""

from decimal import Decimal

from tradeloom.risk_monitor.domain.perps import (
    MAX_LEVERAGE,
    PerpTerms,
    check_leverage,
    contract_size,
    contracts_of,
    is_perpetual,
    liquidation_price,
    margin_refusal,
    perp_equity,
    perp_margin,
)

D = Decimal


def test_isolated_long_liquidation_worked_example() -> None:
    """Long 2 BTC at 50,000 with 10× leverage, maintenance-margin rate 0.5 %.

    Margin = 2 × 50,000 / 10 = 10,000. Liquidation at P where margin + unrealised = maintenance:
    10,000 + 2 × (P − 50,000) = 0.005 × 2 × P  →  1.99 P = 90,000  →  P = 45,226.1306532663316583
    (= 50,000 × (1 − 1/10) / (1 − 0.005)). Check: at P, equity 10,000 − 9,547.7387 = 452.2613 and
    maintenance 0.01 × 45,226.1307 = 452.2613.
    """
    terms = PerpTerms(leverage=D(10), margin_mode="isolated", maintenance_margin_rate=D("0.005"))
    margin = perp_margin(D(2), D(50000), None, terms)
    assert margin.margin_used == D(10000)
    assert margin.notional == D(100000)
    assert margin.liquidation_price == D("45226.130653266331658291")
    price = margin.liquidation_price
    equity = margin.margin_used + D(2) * (price - D(50000))
    assert abs(equity - D("0.005") * D(2) * price) < D("1e-15")


def test_isolated_short_liquidation_worked_example() -> None:
    """Short 2 BTC at 50,000, 10×, 0.5 %: 10,000 − 2 × (P − 50,000) = 0.01 P → 2.01 P = 110,000 →
    P = 54,726.3681592039800995 (= 50,000 × (1 + 1/10) / (1 + 0.005))."""
    terms = PerpTerms(leverage=D(10), margin_mode="isolated", maintenance_margin_rate=D("0.005"))
    margin = perp_margin(D(-2), D(50000), D(51000), terms)
    assert margin.liquidation_price == D("54726.368159203980099502")
    assert margin.notional == D(102000)  # marked at 51,000
    assert margin.margin_used == D(10200)


def test_cross_margin_has_no_liquidation_estimate_and_one_x_long_never_liquidates() -> None:
    margin = perp_margin(D(1), D(100), D(100), PerpTerms(leverage=D(4), margin_mode="cross"))
    assert margin.liquidation_price is None and margin.margin_used == D(25)
    assert liquidation_price(D(1), D(100), D(1), D("0.005")) == D(0)
    assert liquidation_price(D(0), D(100), D(5), D("0.005")) is None


def test_symbols_contract_sizes_and_leverage_bounds() -> None:
    assert is_perpetual("BTC/USDT:USDT") and not is_perpetual("BTC/USDT")
    sizes = {"ETH/USDT:USDT": D("0.01")}
    assert contract_size("ETH/USDT:USDT", sizes) == D("0.01")
    assert contract_size("BTC/USDT:USDT", sizes) == D(1)
    assert contract_size("ETH/USDT", {"ETH/USDT": D(5)}) == D(1)
    assert contracts_of(D(1), D("0.3")) == D("3.333333333333333333")  # 18 places, as on the wire
    assert check_leverage(D(1)) is None and check_leverage(MAX_LEVERAGE) is None
    assert check_leverage(D("0.5")) is not None and check_leverage(MAX_LEVERAGE + 1) is not None


def test_an_entry_must_fit_its_initial_margin_in_the_free_margin() -> None:
    # equity 22,000, margin used 12,000: free 10,000; 51,000 at 10× needs 5,100, 153,000 needs 15,300
    assert margin_refusal(D(51000), D(10), D(12000), D(22000)) is None
    assert margin_refusal(D(153000), D(10), D(12000), D(22000)) == (
        "perp_margin: order margin 15300 > free margin 10000"
    )


def test_equity_adds_the_perpetuals_pnl_and_their_margin() -> None:
    # balances worth 20,000; BTC perp +2,000 unrealised − 5 fees, margin 10,200; ETH perp −300, 1,800
    got = perp_equity(D(20000), [(D(1995), D(10200)), (D(-300), D(1800))])
    assert (got.equity, got.perp_pnl, got.margin_used, got.margin_free) == (
        D(21695),
        D(1695),
        D(12000),
        D(9695),
    )
    wiped = perp_equity(D(100), [(D(-500), D(50))])
    assert (wiped.equity, wiped.margin_free) == (D(0), D(-50))
