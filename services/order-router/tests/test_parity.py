"""Parity: the paper exchange and the backtest simulator fill the same data set alike.

One random bar series is simulated by ``tradeloom.quant``'s simulator (market entries and exits
filled at the next bar's open, percent slippage, percent commission) and replayed into the paper
matcher as trades (each bar's open, high, low and close, in that order). A market order the paper
exchange accepts after a signal bar's close fills on the next trade, the next bar's open: both give
the same fill prices and the same fees. Limit (maker) and stop (taker, slipped) entries working for
a few bars: the same entries fill, on the same trade, at the same price with the same fees.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.domain.matching import PaperOrder, Trade, match
from tradeloom.quant.fills import CommissionModel, Costs, OrderType, SizingMode, SlippageModel
from tradeloom.quant.simulator.api import Bars, Signals, run_simulation
from tradeloom.quant.simulator.config import SimulationConfig, TradeColumn

SLIPPAGE, MAKER, TAKER = 0.0005, 0.0002, 0.001
PER_BAR = 4  # trades per bar: open, high, low, close


def random_bars(seed: int, n: int) -> Bars:
    rng = np.random.default_rng(seed)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), 2)
    open_ = np.round(np.r_[100.0, close[:-1]] * (1 + rng.normal(0, 0.002, n)), 2)
    high = np.maximum(open_, close) + np.round(rng.uniform(0, 0.5, n), 2)
    low = np.minimum(open_, close) - np.round(rng.uniform(0, 0.5, n), 2)
    return Bars(open_, high, low, close, np.full(n, 1_000.0))


def paper_fill(
    side: str, accepted_after_bar: int, bars: Bars, costs: AccountCosts
) -> tuple[Decimal, Decimal]:
    """Price and fee of a 1-unit market order accepted after ``accepted_after_bar``'s close."""
    order = PaperOrder(
        side=side, type="market", status=states.NEW, quantity=Decimal(1), filled_quantity=Decimal(0),
        locked=Decimal(10**9) if side == "buy" else Decimal(1), time_in_force="gtc",
        accepted_ns=(accepted_after_bar + 1) * PER_BAR,
    )  # fmt: skip
    for bar in range(accepted_after_bar + 1, len(bars.close)):
        prices = (bars.open[bar], bars.high[bar], bars.low[bar], bars.close[bar])
        for k, price in enumerate(prices):
            trade = Trade(Decimal(repr(float(price))), Decimal(1_000), bar * PER_BAR + k)
            outcome = match(order, trade, costs, Decimal("0.001"))
            if outcome is not None and outcome.fill is not None:
                return outcome.fill.price, outcome.fill.fee
    raise AssertionError("never filled")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_paper_exchange_fills_like_the_simulator(seed: int) -> None:
    n = 60
    bars = random_bars(seed, n)
    entries = np.zeros(n, dtype=np.bool_)
    exits = np.zeros(n, dtype=np.bool_)
    entries[[5, 20, 40]] = True
    exits[[12, 30, 50]] = True
    costs = Costs(
        slippage_model=int(SlippageModel.PERCENT), slippage=SLIPPAGE,
        commission_model=int(CommissionModel.PERCENT), maker_rate=MAKER, taker_rate=TAKER,
    )  # fmt: skip
    config = SimulationConfig(
        initial_cash=1_000_000.0, sizing_mode=int(SizingMode.FIXED_QUANTITY), sizing_value=1.0
    )
    simulated = run_simulation(bars, Signals(entries, exits), config, costs).trades
    assert len(simulated) == 3

    account = AccountCosts(
        maker_rate=Decimal(str(MAKER)), taker_rate=Decimal(str(TAKER)),
        slippage_model="percent", slippage=Decimal(str(SLIPPAGE)),
    )  # fmt: skip
    for row, entry_bar, exit_bar in zip(simulated.table, (5, 20, 40), (12, 30, 50), strict=True):
        entry_price, entry_fee = paper_fill("buy", entry_bar, bars, account)
        exit_price, exit_fee = paper_fill("sell", exit_bar, bars, account)
        assert float(entry_price) == pytest.approx(row[TradeColumn.ENTRY_PRICE], abs=1e-9)
        assert float(exit_price) == pytest.approx(row[TradeColumn.EXIT_PRICE], abs=1e-9)
        assert float(entry_fee + exit_fee) == pytest.approx(row[TradeColumn.FEES], abs=1e-9)
        assert int(row[TradeColumn.ENTRY_INDEX]) == entry_bar + 1  # both: the next bar's open


# --- limit and stop entries -------------------------------------------------------------------
# The paper exchange sees each trade as a one-price bar, so the data set goes to the simulator at
# trade resolution: one bar per trade (open = high = low = close). On OHLC bars the simulator
# assumes a path through the level inside the bar (a limit fills at its level); trades show the
# real path, so there the two can only agree at trade resolution.
TTL = 3  # bars a limit or stop entry works (the paper order: GTD, expiring after them)


def trade_bars(seed: int, n: int) -> Bars:
    rng = np.random.default_rng(seed)
    price = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.004, n))), 2)
    return Bars(price, price, price, price, np.full(n, 1_000.0))


def replay(order: PaperOrder, bars: Bars, costs: AccountCosts) -> tuple[int, Decimal, Decimal] | None:
    """(bar, price, fee) of the first fill of ``order`` over the one-price bars, None if none."""
    for bar in range(order.accepted_ns, len(bars.open)):
        outcome = match(order, Trade(Decimal(repr(float(bars.open[bar]))), Decimal(1_000), bar), costs, D3)
        if outcome is None:
            continue
        if outcome.fill is not None:
            return bar, outcome.fill.price, outcome.fill.fee
        order = outcome.order
        if order.status in states.TERMINAL:
            return None
    return None


D3 = Decimal("0.001")


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
@pytest.mark.parametrize(
    ("kind", "sim_type", "offset"),
    [("limit", OrderType.LIMIT, -0.003), ("stop_market", OrderType.STOP, 0.003)],
)
def test_limit_and_stop_entries_fill_like_the_simulator(
    seed: int, kind: str, sim_type: OrderType, offset: float
) -> None:
    n = 80
    bars = trade_bars(seed, n)
    entry_bars, exit_bars = (5, 25, 45, 65), (15, 35, 55, 75)
    entries, exits = np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_)
    entries[list(entry_bars)] = True
    exits[list(exit_bars)] = True
    levels = np.full(n, np.nan)
    levels[list(entry_bars)] = np.round(bars.close[list(entry_bars)] * (1 + offset), 2)
    costs = Costs(
        slippage_model=int(SlippageModel.PERCENT), slippage=SLIPPAGE,
        commission_model=int(CommissionModel.PERCENT), maker_rate=MAKER, taker_rate=TAKER,
    )  # fmt: skip
    config = SimulationConfig(
        initial_cash=1_000_000.0, sizing_mode=int(SizingMode.FIXED_QUANTITY), sizing_value=1.0,
        entry_order_type=int(sim_type), entry_ttl=TTL,
    )  # fmt: skip
    simulated = run_simulation(bars, Signals(entries, exits, entry_level=levels), config, costs).trades
    account = AccountCosts(
        maker_rate=Decimal(str(MAKER)), taker_rate=Decimal(str(TAKER)),
        slippage_model="percent", slippage=Decimal(str(SLIPPAGE)),
    )  # fmt: skip
    paper = []
    for entry_bar, exit_bar in zip(entry_bars, exit_bars, strict=True):
        level = Decimal(repr(float(levels[entry_bar])))
        order = PaperOrder(
            side="buy", type=kind, status=states.NEW, quantity=Decimal(1), filled_quantity=Decimal(0),
            locked=Decimal(10**9), time_in_force="gtd", accepted_ns=entry_bar + 1,
            expire_ns=entry_bar + TTL + 1, price=level if kind == "limit" else None,
            stop_price=level if kind != "limit" else None,
        )  # fmt: skip
        entry = replay(order, bars, account)
        if entry is not None:
            exit_order = replace(order, side="sell", type="market", price=None, stop_price=None,
                                 time_in_force="gtc", accepted_ns=exit_bar + 1, expire_ns=None)  # fmt: skip
            left = replay(exit_order, bars, account)
            assert left is not None
            paper.append((entry, left))
    assert len(paper) == len(simulated)  # the same entries filled (the others expired in both)
    assert 0 < len(paper) < len(entry_bars)  # the data set has entries that fill and that expire
    for row, ((entry_at, entry_price, entry_fee), (exit_at, exit_price, exit_fee)) in zip(
        simulated.table, paper, strict=True
    ):
        assert (int(row[TradeColumn.ENTRY_INDEX]), int(row[TradeColumn.EXIT_INDEX])) == (entry_at, exit_at)
        assert float(entry_price) == pytest.approx(row[TradeColumn.ENTRY_PRICE], abs=1e-9)
        assert float(exit_price) == pytest.approx(row[TradeColumn.EXIT_PRICE], abs=1e-9)
        assert float(entry_fee + exit_fee) == pytest.approx(row[TradeColumn.FEES], abs=1e-9)
