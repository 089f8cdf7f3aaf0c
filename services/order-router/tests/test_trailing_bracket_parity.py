"""Parity: a trailing bracket's OCO pair on the paper exchange exits where the backtest simulator
exits a position with the same trailing stop and take-profit.

At trade resolution (one bar per trade, open = high = low = close, the paper exchange's own view
of a trade) they agree on the bar, the leg and the price: the trailing leg's peak starts at the
entry price like the simulator's, and a one-price bar cannot cross both legs. On OHLC bars they can
differ, by design, in two ways pinned below: when one bar crosses both levels the simulator assumes
the stop came first (pessimistic), the OCO fills whichever trade came first; and the OCO's peak
moves with every trade inside a bar, the simulator's only at the bar's end.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.domain.matching import PaperOrder, Trade, match
from tradeloom.quant.simulator import ExitReason
from tradeloom.quant.simulator.api import Bars, Signals, run_simulation
from tradeloom.quant.simulator.config import SimulationConfig, TradeColumn

FREE = AccountCosts(maker_rate=Decimal(0), taker_rate=Decimal(0))
LOT = Decimal("0.001")
LEGS = {ExitReason.TRAILING_STOP: "trailing_stop", ExitReason.TAKE_PROFIT: "take_profit_market"}


def oco_pair(entry: Decimal, trailing: Decimal, take_profit: Decimal) -> dict[str, PaperOrder]:
    """The two legs as ``exits.open_exits`` opens them (trailing first, its peak at the entry)."""
    common = {"side": "sell", "status": states.NEW, "quantity": Decimal(1), "filled_quantity": Decimal(0),
              "locked": Decimal(1), "time_in_force": "gtc", "accepted_ns": 0}  # fmt: skip
    return {
        "trailing_stop": PaperOrder(
            type="trailing_stop", trailing_percent=trailing * 100, trail_extreme=entry, **common
        ),
        "take_profit_market": PaperOrder(type="take_profit_market", stop_price=take_profit, **common),
    }


def oco_exit(
    legs: dict[str, PaperOrder], prices: list[float], first_ns: int = 1
) -> tuple[int, str, Decimal] | None:
    """(trade index, leg, price) of the pair's first fill over ``prices``: each trade meets the
    legs in the order they were opened; the first fill ends the pair."""
    for index, price in enumerate(prices):
        trade = Trade(Decimal(repr(price)), Decimal(1_000), first_ns + index)
        for name, order in legs.items():
            outcome = match(order, trade, FREE, LOT)
            if outcome is None:
                continue
            if outcome.fill is not None:
                return index, name, outcome.fill.price
            legs[name] = outcome.order
    return None


def simulated(bars: Bars, trailing: float, take_profit: float) -> tuple[int, str, float, float] | None:
    """(exit bar, leg, exit price, entry price) of a long entered on bar 0's signal (bar 1's open)."""
    n = len(bars.open)
    entries = np.zeros(n, dtype=np.bool_)
    entries[0] = True
    config = SimulationConfig(trailing_stop=trailing, take_profit=take_profit, stop_loss=math.nan)
    row = run_simulation(bars, Signals(entries, np.zeros(n, dtype=np.bool_)), config).trades.table[0]
    reason = ExitReason(int(row[TradeColumn.EXIT_REASON]))
    if reason not in LEGS:
        return None
    entry = float(row[TradeColumn.ENTRY_PRICE])
    return int(row[TradeColumn.EXIT_INDEX]), LEGS[reason], float(row[TradeColumn.EXIT_PRICE]), entry


def one_price_bars(seed: int, n: int = 120) -> Bars:
    rng = np.random.default_rng(seed)
    price = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), 2)
    return Bars(price, price, price, price, np.full(n, 1_000.0))


@pytest.mark.parametrize(("trailing", "take_profit"), [("0.03", "0.05"), ("0.05", "0.04"), ("0.02", "0.1")])
def test_at_trade_resolution_the_oco_exits_like_the_simulator(trailing: str, take_profit: str) -> None:
    legs_seen = set()
    for seed in range(30):
        bars = one_price_bars(seed)
        expected = simulated(bars, float(trailing), float(take_profit))
        entry = Decimal(repr(float(bars.open[1])))
        target = entry * (1 + Decimal(take_profit))
        legs = oco_pair(entry, Decimal(trailing), target)
        hit = oco_exit(legs, [float(p) for p in bars.open[2:]])  # the trades after the entry's
        if expected is None:
            assert hit is None, seed
            continue
        assert hit is not None, seed
        assert (hit[0] + 2, hit[1]) == expected[:2], seed
        assert float(hit[2]) == pytest.approx(expected[2], rel=1e-12), seed
        legs_seen.add(hit[1])
    assert legs_seen == {"trailing_stop", "take_profit_market"}


def test_one_bar_crossing_both_levels_the_simulator_takes_the_stop_the_oco_the_first_trade() -> None:
    """Entry at 100, 5 % trail, target 110: a bar 100 → 111 → 94 → 100 crosses both."""
    bars = Bars(
        np.array([100.0, 100.0, 100.0]), np.array([100.0, 100.0, 111.0]), np.array([100.0, 100.0, 94.0]),
        np.array([100.0, 100.0, 100.0]), np.full(3, 1_000.0),
    )  # fmt: skip
    assert simulated(bars, 0.05, 0.10) == (2, "trailing_stop", 95.0, 100.0)
    legs = oco_pair(Decimal(100), Decimal("0.05"), Decimal(110))
    assert oco_exit(legs, [100.0, 111.0, 94.0, 100.0]) == (1, "take_profit_market", Decimal(111))
    legs = oco_pair(Decimal(100), Decimal("0.05"), Decimal(110))  # the low first: both agree on the leg
    assert oco_exit(legs, [100.0, 94.0, 111.0, 100.0])[:2] == (1, "trailing_stop")  # type: ignore[index]


def test_inside_a_bar_the_oco_trails_each_trade_the_simulator_only_each_bar() -> None:
    """Entry at 100, 5 % trail: a bar 100 → 108 → 102.5 → 103 triggers the OCO (peak 108, level
    102.6); the simulator's level stays 95 through that bar (its peak moves after the bar)."""
    bars = Bars(
        np.array([100.0, 100.0, 100.0]), np.array([100.0, 100.0, 108.0]), np.array([100.0, 100.0, 102.5]),
        np.array([100.0, 100.0, 103.0]), np.full(3, 1_000.0),
    )  # fmt: skip
    assert simulated(bars, 0.05, 0.5) is None
    legs = oco_pair(Decimal(100), Decimal("0.05"), Decimal(150))
    assert oco_exit(legs, [100.0, 108.0, 102.5, 103.0]) == (2, "trailing_stop", Decimal("102.5"))
