"""An account's margin pools (isolated and cross), worked by hand with the default brackets.

Balances 10,000 USDT; cross long 1 BTC at 30,000 (mark 30,000), cross short 10 ETH at 2,000 (mark
2,100); isolated long 100 SOL at 100, 10×, marked at 95. The account's equity (balances + every
perpetual's PnL) is 10,000 − 1,000 − 500 = 8,500.
- SOL's pool: margin 100 × 100 / 10 = 1,000, equity 1,000 − 500 = 500, maintenance 9,500 × 0.5 % =
  47.5, ratio 0.095; liquidation (10,000 − 1,000) / (100 × 0.995) = 90.4522613065…
- the cross pool: balance 8,500 + 1,500 (the PnL taken back out) − 1,000 (SOL's margin) = 9,000,
  equity 9,000 − 1,000 = 8,000, maintenance 150 + 105 = 255, ratio 0.031875; BTC's collateral
  9,000 − 1,000 − 105 = 7,895 → liquidation (30,000 − 7,895) / 0.995 = 22,216.0804020100…
- the account: maintenance 302.5, margin ratio the worst pool's, 0.095.
"""

from decimal import Decimal

from tradeloom.quant.margin import DEFAULT_BRACKETS
from tradeloom.risk_monitor.domain.margin import PerpHolding, account_margin

D = Decimal
BTC = PerpHolding("BTC/USDT:USDT", D(1), D(30_000), D(30_000), D(5), "cross", DEFAULT_BRACKETS)
ETH = PerpHolding("ETH/USDT:USDT", D(-10), D(2_000), D(2_100), D(5), "cross", DEFAULT_BRACKETS)
SOL = PerpHolding("SOL/USDT:USDT", D(100), D(100), D(95), D(10), "isolated", DEFAULT_BRACKETS)


def test_pools_ratios_and_liquidation_prices_by_hand() -> None:
    margin = account_margin(D(8_500), [BTC, ETH, SOL])
    assert margin.maintenance_margin == D("302.5")
    assert margin.margin_ratio == D("0.095")
    pools = {pool.name: pool for pool in margin.pools}
    assert (pools["SOL/USDT:USDT"].equity, pools["SOL/USDT:USDT"].maintenance) == (D(500), D("47.5"))
    assert (pools["cross"].equity, pools["cross"].maintenance, pools["cross"].ratio) == (
        D(8_000),
        D(255),
        D("0.031875"),
    )
    assert margin.liquidation_prices["SOL/USDT:USDT"].quantize(D("0.0001")) == D("90.4523")
    assert margin.liquidation_prices["BTC/USDT:USDT"].quantize(D("0.0001")) == D("22216.0804")
    assert "ETH/USDT:USDT" in margin.liquidation_prices
    assert margin.liquidating == []


def test_without_equity_only_isolated_pools_and_a_pool_past_liquidation() -> None:
    margin = account_margin(None, [BTC, ETH, SOL])
    assert [pool.name for pool in margin.pools] == ["SOL/USDT:USDT"]
    assert "BTC/USDT:USDT" not in margin.liquidation_prices
    crashed = PerpHolding("SOL/USDT:USDT", D(100), D(100), D(90), D(10), "isolated", DEFAULT_BRACKETS)
    below = account_margin(None, [crashed])  # equity 0 ≤ maintenance 45: liquidating, no ratio
    assert below.liquidating == ["SOL/USDT:USDT"] and below.margin_ratio is None
    assert account_margin(D(100), []).margin_ratio is None
