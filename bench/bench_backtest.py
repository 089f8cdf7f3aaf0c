"""Backtest speed against named peers, in one run (ratios printed; no asserts).

1. One SMA(10, 20) cross backtest on 1,000,000 bars — signals, simulation, trade records and metrics —
   against a bare hand-written Numba loop doing the same and against vectorbt's
   ``Portfolio.from_signals`` (signals, simulation, trade records, the same metrics).
2. A 100-combination grid (fast 5..50 step 5 × slow 20..200 step 20) on 1,000,000 bars against a
   bare parallel Numba loop over the same grid and vectorbt's parameter grid (run in column chunks
   to bound memory).
3. Cold-start compile time (empty Numba cache, fresh process) and warm start (cache populated).
Timings are the best of several warm runs (compile excluded), on whatever else the machine runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable

import numpy as np
from numba import njit, prange

from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.metrics import compute_metrics
from tradeloom.quant.optimise import SUMMARY_COLUMNS, evaluate, grid_candidates, summary_metrics
from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, run_simulation
from tradeloom.quant.strategies.signals import sma_cross
from tradeloom.shared.allocator import keep_large_allocations_on_heap

BARS = 1_000_000
FEE = 0.001
CASH = 10_000.0
FAST = list(range(5, 51, 5))
SLOW = list(range(20, 201, 20))


def make_bars(n: int, seed: int = 1) -> Bars:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * 1.001
    low = np.minimum(open_, close) * 0.999
    return Bars(open_, high, low, close, np.full(n, 1e6))


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    fn()  # warm-up: compile and caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


@njit(cache=True)
def bare_sma_cross(  # noqa: PLR0917, PLR0915 (one hand-written loop, on purpose)
    open_: np.ndarray, close: np.ndarray, fast: int, slow: int, cash0: float, fee: float
) -> tuple:
    """Hand-written: SMAs by running sums, crosses, next-open all-in whole-unit long-only fills with a
    proportional fee, trade records, equity, and the same ten figures as tradeloom's grid rows
    (``SUMMARY_COLUMNS``: total return, CAGR, Sharpe, Sortino, max drawdown, Calmar, closed trades,
    win rate, profit factor, exposure; 365 periods a year)."""
    n = close.shape[0]
    trades = np.empty((n // 2 + 1, 5))
    equity = np.empty(n)
    sf = 0.0
    ss = 0.0
    prev_f = np.nan
    prev_s = np.nan
    cash = cash0
    units = 0.0
    entry = 0.0
    entry_bar = 0
    pending = 0
    count = 0
    wins = 0
    gross_win = 0.0
    gross_loss = 0.0
    exposed = 0
    for t in range(n):
        if pending == 1 and units == 0.0:
            units = np.floor(cash / (open_[t] * (1.0 + fee)))
            cash -= units * open_[t] * (1.0 + fee)
            entry = open_[t]
            entry_bar = t
        elif pending == -1 and units > 0.0:
            cash += units * open_[t] * (1.0 - fee)
            pnl = units * (open_[t] - entry) - fee * units * (open_[t] + entry)
            trades[count, 0] = entry_bar
            trades[count, 1] = t
            trades[count, 2] = entry
            trades[count, 3] = open_[t]
            trades[count, 4] = pnl
            count += 1
            if pnl > 0.0:
                wins += 1
                gross_win += pnl
            elif pnl < 0.0:
                gross_loss -= pnl
            units = 0.0
        pending = 0
        sf += close[t]
        ss += close[t]
        if t >= fast:
            sf -= close[t - fast]
        if t >= slow:
            ss -= close[t - slow]
        f = sf / fast if t >= fast - 1 else np.nan
        s = ss / slow if t >= slow - 1 else np.nan
        if prev_f < prev_s and f > s:
            pending = 1
        elif prev_f > prev_s and f < s:
            pending = -1
        prev_f = f
        prev_s = s
        equity[t] = cash + units * close[t]
        exposed += units != 0.0
    mean = 0.0
    down_sq = 0.0
    peak = cash0
    worst = 0.0
    previous = cash0
    for t in range(n):
        r = equity[t] / previous - 1.0
        mean += r
        if r < 0.0:
            down_sq += r * r
        previous = equity[t]
        peak = max(peak, equity[t])
        worst = min(worst, equity[t] / peak - 1.0)
    mean /= n
    var = 0.0
    previous = cash0
    for t in range(n):
        var += (equity[t] / previous - 1.0 - mean) ** 2
        previous = equity[t]
    figures = np.full(10, np.nan)
    growth = equity[n - 1] / cash0
    figures[0] = growth - 1.0
    figures[1] = growth ** (365.0 / n) - 1.0 if growth > 0.0 else -1.0
    figures[2] = mean / np.sqrt(var / (n - 1)) * np.sqrt(365.0) if var > 0.0 else np.nan
    downside = np.sqrt(down_sq / n) * np.sqrt(365.0)
    figures[3] = mean * 365.0 / downside if downside > 0.0 else np.nan
    figures[4] = worst
    figures[5] = figures[1] / -worst if worst < 0.0 else np.nan
    figures[6] = count
    figures[7] = wins / count if count else np.nan
    figures[8] = gross_win / gross_loss if gross_loss > 0.0 else (np.inf if gross_win > 0.0 else np.nan)
    figures[9] = exposed / n
    return trades[:count], equity, figures


@njit(cache=True, parallel=True)
def bare_grid(
    open_: np.ndarray, close: np.ndarray, fasts: np.ndarray, slows: np.ndarray, fee: float
) -> np.ndarray:
    out = np.empty((fasts.shape[0], 10))
    for i in prange(fasts.shape[0]):
        out[i] = bare_sma_cross(open_, close, fasts[i], slows[i], CASH, fee)[2]
    return out


def max_relative_gap(ours: np.ndarray, bare: np.ndarray) -> float:
    """Largest relative difference of the figures both computed (the peer is checked, not trusted)."""
    both = np.isfinite(ours) & np.isfinite(bare)
    return float(np.max(np.abs(ours[both] - bare[both]) / np.maximum(np.abs(bare[both]), 1e-12)))


def ours_single(bars: Bars, full_report: bool = False) -> object:
    """Signals, simulation with trade records, then the compiled summary metrics (the bare loop's
    work) or, with ``full_report``, every metric of tradeloom.quant.metrics."""
    signals = sma_cross(bars.close, 10, 20, False)
    costs = Costs(commission_model=int(CommissionModel.PERCENT), maker_rate=FEE, taker_rate=FEE)
    run = run_simulation(
        bars, Signals(*signals), SimulationConfig(initial_cash=CASH, whole_units=True), costs
    )
    if full_report:
        return compute_metrics(run, bars.close, CASH, periods_per_year=365.0).metrics
    return summary_metrics(run.equity, run.position, run.trades.table, CASH, 365.0)


def vectorbt_single(vbt: object, bars: Bars, fast: list[int], slow: list[int]) -> object:
    import pandas as pd

    close = pd.Series(bars.close)
    fast_ma = vbt.MA.run(close, fast, short_name="fast")  # type: ignore[attr-defined]
    slow_ma = vbt.MA.run(close, slow, short_name="slow")  # type: ignore[attr-defined]
    entries = fast_ma.ma_crossed_above(slow_ma).shift(1, fill_value=False)
    exits = fast_ma.ma_crossed_below(slow_ma).shift(1, fill_value=False)
    portfolio = vbt.Portfolio  # type: ignore[attr-defined]
    pf = portfolio.from_signals(close, entries, exits, price=pd.Series(bars.open), init_cash=CASH, fees=FEE,
                                size=np.inf, size_granularity=1, freq="D")  # fmt: skip
    if len(fast) == 1:  # the trade list is part of the single-run work
        _ = pf.trades.records_readable
    return pf.total_return(), pf.sharpe_ratio(), pf.max_drawdown()


def compile_times() -> tuple[float, float]:
    """(cold: empty cache, warm: populated cache) seconds for import + a first small backtest, in fresh
    processes."""
    code = ("import time; t=time.perf_counter(); from bench.bench_backtest import make_bars, ours_single; "
            "ours_single(make_bars(1000)); print(time.perf_counter()-t)")  # fmt: skip
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as cache:
        cold_env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = subprocess.run(
            [sys.executable, "-c", code], cwd=root, env=cold_env, capture_output=True, text=True, check=True
        )
    warm = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    return float(cold.stdout.strip()), float(warm.stdout.strip())


def interleaved_best(contenders: dict[str, Callable[[], object]], rounds: int = 3) -> dict[str, float]:
    """Best time of each contender over ``rounds`` rounds, run in turn within each round, so that
    load from elsewhere on the machine hits both sides of a ratio alike."""
    for fn in contenders.values():
        fn()  # warm-up: compile and caches
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for name, fn in contenders.items():
            started = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def grid_combos() -> tuple[list[dict[str, object]], np.ndarray, np.ndarray]:
    """The 100-combination grid's 90 valid ones (fast < slow; the schema refuses the other 10)."""
    combos = [c for c in grid_candidates({"fast": FAST, "slow": SLOW}) if c["fast"] < c["slow"]]  # type: ignore[operator]
    fasts = np.array([c["fast"] for c in combos], dtype=np.int64)
    slows = np.array([c["slow"] for c in combos], dtype=np.int64)
    return combos, fasts, slows


def grid_against_bare(bars: Bars, rounds: int = 3) -> float:
    """Ours vs the bare parallel loop on the grid (both: signals, simulation, trade records and the
    ten summary figures per combination); prints both and how far their figures agree."""
    combos, fasts, slows = grid_combos()
    print(f"grid 5..50 x 20..200: {len(combos)} valid SMA cross combinations on {BARS:,} bars")
    costs = Costs(commission_model=int(CommissionModel.PERCENT), maker_rate=FEE, taker_rate=FEE)
    config = SimulationConfig(initial_cash=CASH, whole_units=True)

    def ours() -> object:
        return evaluate("sma_cross", combos, bars, config, costs, periods_per_year=365.0)

    def per_row() -> object:  # each row computing its own averages, as before they were shared
        return evaluate(
            "sma_cross", combos, bars, config, costs, periods_per_year=365.0, shared_average_bytes=0
        )

    def bare() -> object:
        return bare_grid(bars.open, bars.close, fasts, slows, FEE)

    times = interleaved_best({"ours": ours, "per_row": per_row, "bare": bare}, rounds)
    table = ours()
    figures = np.column_stack([table.metrics[name] for name in SUMMARY_COLUMNS])  # type: ignore[attr-defined]
    print(f"  tradeloom           {times['ours']:9.3f} s    (each distinct SMA computed once, shared)")
    print(f"  tradeloom per-row   {times['per_row']:9.3f} s    (SMAs recomputed in every row) "
          f"per-row/bare = {times['per_row'] / times['bare']:.2f}x")  # fmt: skip
    print(f"  bare parallel Numba {times['bare']:9.3f} s    ours/bare = {times['ours'] / times['bare']:.2f}x "
          f"(target <= 1.5x; figures agree to {max_relative_gap(figures, bare()):.1e} relative)")  # type: ignore[arg-type]  # fmt: skip
    return times["ours"]


def main(argv: list[str] | None = None) -> None:
    """Everything; ``python -m bench.bench_backtest grid`` runs only the grid against the bare loop."""
    keep_large_allocations_on_heap()  # as backtest-engine does; the same for every contender here
    bars = make_bars(BARS)
    if argv and argv[0] == "grid":
        grid_against_bare(bars, rounds=5)
        return
    print(f"single SMA(10,20) backtest, {BARS:,} bars, signals + simulation + trade records + metrics")
    single = interleaved_best(
        {
            "ours": lambda: ours_single(bars),
            "bare": lambda: bare_sma_cross(bars.open, bars.close, 10, 20, CASH, FEE),
        },
        rounds=9,  # ~10 ms each: many rounds, taken in turn, so a burst of load hits both alike
    )
    ours, bare = single["ours"], single["bare"]
    full = best_of(lambda: ours_single(bars, full_report=True))
    print(f"  tradeloom           {ours * 1e3:9.1f} ms   (summary metrics, as the bare loop)")
    print(
        f"  tradeloom full      {full * 1e3:9.1f} ms   (all ~45 metrics: VaR/CVaR, alpha/beta, drawdowns...)"
    )
    print(f"  bare Numba loop     {bare * 1e3:9.1f} ms   ours/bare = {ours / bare:.2f}x (target <= 1.5x)")
    ours_grid = grid_against_bare(bars)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import vectorbt as vbt

        peer = best_of(lambda: vectorbt_single(vbt, bars, [10], [20]), repeat=3)
        print(
            f"  vectorbt single     {peer * 1e3:9.1f} ms   vectorbt/ours = {peer / ours:.1f}x (target >= 3x)"
        )
        _, fasts, slows = grid_combos()

        def vbt_grid() -> None:
            for start in range(0, len(fasts), 20):  # column chunks keep memory near 1 GB
                vectorbt_single(
                    vbt, bars, fasts[start : start + 20].tolist(), slows[start : start + 20].tolist()
                )

        peer_g = best_of(vbt_grid, repeat=1)
        print(
            f"  vectorbt grid       {peer_g:9.3f} s    "
            f"vectorbt/ours = {peer_g / ours_grid:.1f}x (target >= 10x)"
        )
    cold, warm = compile_times()
    print(
        f"start-up: import + first backtest, cold (empty Numba cache) {cold:.1f} s, "
        f"warm (cached) {warm:.1f} s"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
