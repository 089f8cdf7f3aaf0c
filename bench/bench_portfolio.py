"""Portfolio backtest speed: 10 symbols x 100,000 bars, one shared cash balance, against vectorbt's
grouped portfolio (``Portfolio.from_signals(..., group_by=True, cash_sharing=True)``) in one run.

Both get the same SMA(10, 30) cross signals per symbol (computed once, outside the timing) and
produce the same things: the portfolio's equity per bar and the trade list (symbol, entry and exit
bar, size, prices, PnL). vectorbt runs in its fastest configuration for this: numpy-backed frames,
``call_seq='default'`` (no sorting), ``max_logs=0``, order records sized to the signals, no
``freq``-based stats. Timings are interleaved rounds (ours, theirs, ours, ...) after a warm-up that
compiles both, printed as median with min and max; the trades are asserted identical first (same
symbols and bars, sizes/prices/PnL to 1e-9 relative). Goal: ours at least 3x faster.
Self-contained: ``python -m bench bench_portfolio`` (or ``python -m bench.bench_portfolio``).
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np

from tradeloom.quant.memory import keep_large_allocations_on_heap
from tradeloom.quant.portfolio.kernel import (
    ENTRY_BAR,
    ENTRY_PRICE,
    EXIT_BAR,
    EXIT_PRICE,
    PNL,
    SIZE,
    SYMBOL,
    simulate_portfolio,
)
from tradeloom.quant.strategies.signals import sma_cross

SYMBOLS, BARS, ROUNDS = 10, 100_000, 7
CASH, FEE = 100_000.0, 0.001
GOAL = 3.0


def make_basket(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, (BARS, SYMBOLS)), axis=0))
    entries = np.zeros((BARS, SYMBOLS), dtype=np.bool_)
    exits = np.zeros((BARS, SYMBOLS), dtype=np.bool_)
    for j in range(SYMBOLS):
        el, xl, _, _, _ = sma_cross(np.ascontiguousarray(close[:, j]), 10, 30, False)
        entries[:, j], exits[:, j] = el, xl
    return close, entries, exits


def ours(
    close: np.ndarray, entries: np.ndarray, exits: np.ndarray, allocation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    equity, _, _, trades = simulate_portfolio(close, entries, exits, allocation, CASH, FEE)
    return equity, trades


def theirs(
    vbt: object, close: np.ndarray, entries: np.ndarray, exits: np.ndarray, allocation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    frame = pd.DataFrame  # a RangeIndex: no datetime work
    pf = vbt.Portfolio.from_signals(  # type: ignore[attr-defined]
        frame(close), frame(entries), frame(exits), size=allocation, size_type="value", direction="longonly",
        fees=FEE, init_cash=CASH, group_by=True, cash_sharing=True, call_seq="default", max_logs=0,
        max_orders=int(entries.sum() + exits.sum()) + SYMBOLS,
    )  # fmt: skip
    records = pf.trades.records
    table = np.column_stack([
        records["col"], records["entry_idx"], np.where(records["status"] == 1, records["exit_idx"], -1),
        records["size"], records["entry_price"], records["exit_price"], records["pnl"],
    ])  # fmt: skip
    return pf.value().to_numpy(), table


def same_trades(mine: tuple[np.ndarray, np.ndarray], other: tuple[np.ndarray, np.ndarray]) -> int:
    equity, trades = mine
    table = trades[:, [SYMBOL, ENTRY_BAR, EXIT_BAR, SIZE, ENTRY_PRICE, EXIT_PRICE, PNL]]
    a = table[np.lexsort((table[:, 1], table[:, 0]))]
    b = other[1][np.lexsort((other[1][:, 1], other[1][:, 0]))]
    assert a.shape == b.shape, f"{a.shape[0]} trades against vectorbt's {b.shape[0]}"
    np.testing.assert_array_equal(a[:, :3], b[:, :3])
    np.testing.assert_allclose(a[:, 3:], b[:, 3:], rtol=1e-9)
    np.testing.assert_allclose(equity, other[0], rtol=1e-9)
    return int(a.shape[0])


def interleaved(contenders: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    keep_large_allocations_on_heap()
    import vectorbt as vbt

    warnings.simplefilter("ignore")
    close, entries, exits = make_basket()
    allocation = np.full(SYMBOLS, CASH / SYMBOLS)
    run_ours = lambda: ours(close, entries, exits, allocation)  # noqa: E731
    run_theirs = lambda: theirs(vbt, close, entries, exits, allocation)  # noqa: E731
    count = same_trades(run_ours(), run_theirs())  # also the warm-up: both compiled
    times = interleaved({"tradeloom.quant.portfolio": run_ours, "vectorbt grouped": run_theirs}, ROUNDS)
    print(f"portfolio backtest: {SYMBOLS} symbols x {BARS:,} bars, shared cash, {count} identical trades")
    for name, values in times.items():
        ms = [v * 1000 for v in values]
        print(f"  {name:28s} median {statistics.median(ms):9.2f} ms  (min {min(ms):.2f}, max {max(ms):.2f}, "
              f"{ROUNDS} interleaved rounds)")  # fmt: skip
    ratio = statistics.median(times["vectorbt grouped"]) / statistics.median(
        times["tradeloom.quant.portfolio"]
    )
    verdict = "meets" if ratio >= GOAL else "MISSES"
    print(f"  ratio: ours {ratio:.1f}x faster than vectorbt (median); {verdict} the {GOAL:.0f}x goal")


if __name__ == "__main__":
    main()
