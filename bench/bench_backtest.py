"""Backtest speed against named peers on data where the strategy trades throughout (no asserts on time).

Data: one geometric random walk (seed 1, 0.2 % per bar), 1,000,000 cash, no fee, whole units — the
strategy keeps trading to the last bar (asserted: an entry in the last 10 % of bars), unlike the
old 10,000-cash 0.1 %-fee data on which it went broke and stopped trading at bar 539,236. Every
contender runs on the same arrays, and their figures are checked against each other before timing.

1. One SMA(10, 20) backtest at 100k, 1M and 10M bars: tradeloom.quant called directly through its
   public entry point ``run_template_backtest`` (``ours``: the fused one-pass path; trade records,
   equity, position and the summary figures) and as the three passes (``three_pass``: ``sma_cross``,
   ``run_simulation``, ``summary_metrics``), against ``bare_minimal`` (final equity and trade count
   only) and ``bare_full`` (trade records, equity curve, the same figures); vectorbt on its Rust
   engine at 100k and 1M.
2. Grids of 10, 100 and 1,000 SMA-cross combinations (every one valid: fast < slow) on 1M bars
   against the bare parallel loop that shares the averages; vectorbt's grid at 10 and 100, interleaved.
3. Cold start: import + first backtest in a fresh process, with an empty and with a filled Numba cache.
``python -m bench.bench_backtest single|grid|cold`` runs one part.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pandas as pd

from bench.backtest_peers import bare_full, bare_minimal, bare_shared_grid, vectorbt_grid
from bench.harness import Contender, header, interleaved, ratio, report
from tradeloom.quant.backtest import run_template_backtest
from tradeloom.quant.fills.models import Costs
from tradeloom.quant.optimise import SUMMARY_COLUMNS, evaluate, grid_candidates, summary_metrics
from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, run_simulation
from tradeloom.quant.strategies.signals import sma_cross

CASH = 1_000_000.0
FEE = 0.0
SIZES = (100_000, 1_000_000, 10_000_000)
VECTORBT_MAX_BARS = 1_000_000  # vectorbt's pandas wrapping at 10M bars costs minutes of box time
GRID_BARS = 1_000_000
# (fast values, slow values): every fast < every slow, so each grid is exactly as named
GRIDS = {
    10: (range(5, 11, 5), range(60, 221, 40)),
    100: (range(5, 51, 5), range(60, 241, 20)),
    1000: (range(5, 126, 5), range(130, 521, 10)),
}
VECTORBT_GRIDS = (10, 100)
VECTORBT_CHUNK = 25  # columns per vectorbt call: 25 × 1M floats = 200 MB per 2-D array
PATHS = {
    "ours": "tradeloom.quant run_template_backtest",
    "three_pass": "tradeloom.quant sma_cross + run_simulation + summary_metrics",
    "bare_min": "bench.backtest_peers.bare_minimal: final equity + trade count",
    "bare_full": "bench.backtest_peers.bare_full: trade records + equity curve + 10 figures",
    "vbt": "vectorbt 1.2 MA.run + from_signals, engine='rust', raw order records + final value",
    "bare_grid": "bench.backtest_peers.bare_shared_grid: averages once, parallel rows, final equity + trades",
}
ONE = (np.array([10, 20]), np.array([0]), np.array([1]))  # SMA(10, 20) as a grid of one
DATA = "random walk seed 1 (0.2 %/bar), cash 1,000,000, fee 0, whole units, long only, next-open fills"


def make_bars(n: int, seed: int = 1) -> Bars:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * 1.001
    low = np.minimum(open_, close) * 0.999
    return Bars(open_, high, low, close, np.full(n, 1e6))


def ours_template(bars: Bars, fast: int = 10, slow: int = 20) -> object:
    """tradeloom.quant's public entry point for a template backtest (its ``path`` says which ran)."""
    config = SimulationConfig(initial_cash=CASH, whole_units=True)
    return run_template_backtest("sma_cross", {"fast": fast, "slow": slow}, bars, config, Costs(),
                                 periods_per_year=365.0)  # fmt: skip


def ours_single(bars: Bars, fast: int = 10, slow: int = 20) -> tuple[object, np.ndarray]:
    """tradeloom.quant's three passes: (the run, its SUMMARY_COLUMNS figures)."""
    signals = sma_cross(bars.close, fast, slow, False)
    run = run_simulation(
        bars, Signals(*signals), SimulationConfig(initial_cash=CASH, whole_units=True), Costs()
    )
    return run, summary_metrics(run.equity, run.position, run.trades.table, CASH, 365.0)


def check_single(bars: Bars) -> int:
    """The contenders agree (trades, final equity) and the strategy trades to the end; trade count."""
    n = bars.close.shape[0]
    run, figures = ours_single(bars)
    template = ours_template(bars)
    assert np.array_equal(template.simulation.trades.table, run.trades.table)  # type: ignore[attr-defined]
    assert np.array_equal(template.simulation.equity, run.equity)  # type: ignore[attr-defined]
    assert np.array_equal(np.array(list(template.summary.values())), figures)  # type: ignore[attr-defined]
    final, count, last_entry = bare_minimal(bars.open, bars.close, 10, 20, CASH, FEE)
    _, equity, _ = bare_full(bars.open, bars.close, 10, 20, CASH, FEE)
    assert len(run.trades) == count, (len(run.trades), count)  # type: ignore[attr-defined]
    assert np.isclose(run.equity[-1], final, rtol=1e-12) and np.isclose(equity[-1], final, rtol=1e-12)  # type: ignore[attr-defined]
    last = int(run.trades.entry_index.max())  # type: ignore[attr-defined]
    assert last >= 0.9 * n and last_entry == last, f"last entry at bar {last} of {n}: not trading throughout"
    return count


def single(n: int, vbt: object | None) -> None:
    bars = make_bars(n)
    count = check_single(bars)
    header(
        f"single SMA(10,20) backtest, {n:,} bars", f"{DATA}; {count:,} trades, last entry in the final 10 %"
    )
    o, c = bars.open, bars.close
    path = ours_template(bars).path  # type: ignore[attr-defined]
    contenders = [
        Contender("ours", lambda: ours_template(bars), f"{PATHS['ours']}, path {path}"),
        Contender("three_pass", lambda: ours_single(bars), f"{PATHS['three_pass']}, path three_pass"),
        Contender("bare_min", lambda: bare_minimal(o, c, 10, 20, CASH, FEE), PATHS["bare_min"]),
        Contender("bare_full", lambda: bare_full(o, c, 10, 20, CASH, FEE), PATHS["bare_full"]),
    ]
    if vbt is not None and n <= VECTORBT_MAX_BARS:
        close, open_ = pd.Series(bars.close), pd.Series(bars.open)
        final, trades = vectorbt_grid(vbt, close, open_, *ONE, CASH, FEE)
        ours_final = float(ours_single(bars)[0].equity[-1])  # type: ignore[attr-defined]
        assert int(trades[0]) == count and np.isclose(final[0], ours_final, rtol=1e-12), (trades, count)
        peer = Contender("vectorbt", lambda: vectorbt_grid(vbt, close, open_, *ONE, CASH, FEE), PATHS["vbt"])
        contenders.append(peer)
    timings = interleaved(contenders, rounds=9 if n <= GRID_BARS else 5)
    report(timings, base="bare_min")
    ours = timings["ours"]
    print(f"   ours/bare_full = {ratio(ours, timings['bare_full'])}  (goal: ours/bare_min <= 1.25x)")
    print(f"   three_pass/ours = {ratio(timings['three_pass'], ours)}")
    if "vectorbt" in timings:
        print(f"   vectorbt/ours = {ratio(timings['vectorbt'], ours)}  (goal >= 5x)")
    else:
        print(f"   vectorbt not run above {VECTORBT_MAX_BARS:,} bars (minutes of box time per round)")


def grid_rows(size: int) -> tuple[list[dict[str, object]], np.ndarray, np.ndarray, np.ndarray]:
    """(candidates, distinct windows, fast row index, slow row index) of the named grid."""
    fasts, slows = GRIDS[size]
    combos = grid_candidates({"fast": list(fasts), "slow": list(slows)})
    assert len(combos) == size and all(c["fast"] < c["slow"] for c in combos)  # type: ignore[operator]
    pairs = np.array([[c["fast"], c["slow"]] for c in combos], dtype=np.int64)
    windows, index = np.unique(pairs, return_inverse=True)
    index = index.reshape(-1, 2)
    return combos, windows, np.ascontiguousarray(index[:, 0]), np.ascontiguousarray(index[:, 1])


def grid(size: int, bars: Bars, vbt: object | None) -> None:
    combos, windows, fast_rows, slow_rows = grid_rows(size)
    config = SimulationConfig(initial_cash=CASH, whole_units=True)
    table = evaluate("sma_cross", combos, bars, config, Costs(), periods_per_year=365.0)
    bare = bare_shared_grid(bars.open, bars.close, windows, fast_rows, slow_rows, CASH, FEE)
    assert np.allclose(table.metrics["total_return"], bare[:, 0] / CASH - 1.0, rtol=1e-9, atol=1e-12)
    header(
        f"grid of {size:,} SMA-cross combinations, {GRID_BARS:,} bars ({windows.size} distinct windows)",
        f"{DATA}; min trades per row {int(table.metrics['trades'].min()):,}",
    )
    contenders = [
        Contender("ours", lambda: evaluate("sma_cross", combos, bars, config, Costs(), periods_per_year=365),
                  f"tradeloom.quant evaluate, path {getattr(table, 'path', '?')}, "
                  f"{len(SUMMARY_COLUMNS)} figures per row"),
        Contender("bare", lambda: bare_shared_grid(bars.open, bars.close, windows, fast_rows, slow_rows, CASH,
                  FEE), PATHS["bare_grid"]),
    ]  # fmt: skip
    if vbt is not None and size in VECTORBT_GRIDS:
        close, open_ = pd.Series(bars.close), pd.Series(bars.open)
        chunks = [_chunk(windows, fast_rows[at : at + VECTORBT_CHUNK], slow_rows[at : at + VECTORBT_CHUNK])
                  for at in range(0, size, VECTORBT_CHUNK)]  # fmt: skip

        def vbt_grid() -> list[tuple[np.ndarray, np.ndarray]]:
            return [vectorbt_grid(vbt, close, open_, *chunk, CASH, FEE) for chunk in chunks]

        finals = np.concatenate([final for final, _ in vbt_grid()])
        assert np.allclose(finals, bare[:, 0], rtol=1e-9), "vectorbt's grid disagrees with the bare loop"
        contenders.append(
            Contender("vectorbt", vbt_grid, f"vectorbt 1.2 engine='rust', {VECTORBT_CHUNK} columns a call")
        )
    timings = interleaved(contenders, rounds=5)
    report(timings, base="bare", scale=1.0, unit="s")
    print("   goal: ours/bare <= 1.5x" + ("; vectorbt/ours >= 20x" if "vectorbt" in timings else ""))
    if "vectorbt" in timings:
        print(f"   vectorbt/ours = {ratio(timings['vectorbt'], timings['ours'])}")


def _chunk(windows: np.ndarray, fast_rows: np.ndarray, slow_rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """(the chunk's distinct windows, its fast and slow rows re-indexed into them)."""
    used, index = np.unique(np.concatenate([windows[fast_rows], windows[slow_rows]]), return_inverse=True)
    return used, index[: fast_rows.size], index[fast_rows.size :]


def cold_start() -> None:
    """Seconds for import + a first 1,000-bar backtest in a fresh process: empty, then filled cache."""
    code = ("import time; t=time.perf_counter(); from bench.bench_backtest import make_bars, ours_template; "
            "ours_template(make_bars(1000)); print(time.perf_counter()-t)")  # fmt: skip
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = subprocess.run(
            [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
        )
        warm = subprocess.run(
            [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
        )
    header("start-up: import + first 1,000-bar backtest in a fresh process", "make_bars(1000)")
    empty, filled = float(cold.stdout), float(warm.stdout)
    print(f"   empty Numba cache {empty:.1f} s, filled cache {filled:.1f} s (one sample each)")


def main(argv: list[str] | None = None) -> None:
    parts = set(argv or []) or {"single", "grid", "cold"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import vectorbt as vbt
    if "single" in parts:
        for n in SIZES:
            single(n, vbt)
    if "grid" in parts:
        bars = make_bars(GRID_BARS)
        for size in GRIDS:
            grid(size, bars, vbt)
    if "cold" in parts:
        cold_start()


if __name__ == "__main__":
    main(sys.argv[1:])
