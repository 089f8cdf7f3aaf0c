"""Grid and random parameter search over a built-in strategy, run by the parallel compiled loop."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tradeloom.quant.fills.models import Costs, SizingMode, normalized_costs
from tradeloom.quant.indicators.volatility import rolling_volatility
from tradeloom.quant.memory import heap_reuse_once
from tradeloom.quant.optimise.compiled import STRATEGY_IDS, SUMMARY_COLUMNS, run_grid
from tradeloom.quant.optimise.shared_averages import PER_ROW, shared_average_grid
from tradeloom.quant.simulator.api import Bars, first_invalid_bar, validate_config
from tradeloom.quant.simulator.config import SimulationConfig, normalized_config
from tradeloom.quant.strategies.catalog import BUILTIN_STRATEGIES
from tradeloom.quant.strategies.schema import InvalidParameters, ParamValue, StrategySpec, validate_params
from tradeloom.quant.types import FloatArray

SHARED_AVERAGE_BYTES = 256 * 1024 * 1024  # largest table of shared moving averages (32 windows × 1M bars)


@dataclass(frozen=True)
class SearchResults:
    """One row per evaluated parameter set: ``params[name]`` and ``metrics[column]`` arrays."""

    strategy: str
    params: dict[str, FloatArray]
    metrics: dict[str, FloatArray]
    skipped: int  # combinations refused by the schema (e.g. fast ≥ slow)
    # the compiled loop that ran: "per_row", or "shared_averages" / "shared_averages_tiled(<tiles>)"
    # followed by the rows' loop, "+market_rows" (market fast path) or "+general_rows"
    path: str = PER_ROW

    def __len__(self) -> int:
        return len(next(iter(self.metrics.values())))

    def best(self, metric: str = "sharpe", maximize: bool = True) -> tuple[dict[str, ParamValue], float]:
        """Parameters and value of the best row by ``metric`` (NaN rows never win)."""
        if metric not in self.metrics:
            raise ValueError(f"metric: unknown, choose one of {', '.join(SUMMARY_COLUMNS)}")
        values = self.metrics[metric]
        if len(values) == 0 or np.isnan(values).all():
            raise ValueError("metric: no evaluated row has a value for it")
        row = int(np.nanargmax(values) if maximize else np.nanargmin(values))
        spec = BUILTIN_STRATEGIES[self.strategy]
        return {p.name: p.kind(self.params[p.name][row]) for p in spec.params}, float(values[row])

    def heatmap(self, x: str, y: str, metric: str = "sharpe") -> tuple[FloatArray, FloatArray, FloatArray]:
        """(x values, y values, grid[y, x]) of ``metric``, the best over the other parameters; NaN: none."""
        for name in (x, y):
            if name not in self.params:
                raise ValueError(f"{name}: not a parameter of {self.strategy}")
        xs, ys = np.unique(self.params[x]), np.unique(self.params[y])
        grid = np.full((ys.size, xs.size), np.nan)
        xi = np.searchsorted(xs, self.params[x])
        yi = np.searchsorted(ys, self.params[y])
        for i, j, value in zip(yi, xi, self.metrics[metric], strict=True):
            if not math.isnan(value) and (math.isnan(grid[i, j]) or value > grid[i, j]):
                grid[i, j] = value
        return xs, ys, grid

    def rows(self) -> list[dict[str, float]]:
        """The table as records (parameters then metrics), for JSON or a DataFrame."""
        columns = {**self.params, **self.metrics}
        return [{name: float(values[r]) for name, values in columns.items()} for r in range(len(self))]


def _spec(strategy: str) -> StrategySpec:
    spec = BUILTIN_STRATEGIES.get(strategy)
    if spec is None:
        raise ValueError(f"strategy: unknown built-in strategy {strategy!r}")
    return spec


def evaluate(
    strategy: str,
    candidates: Sequence[Mapping[str, object]],
    bars: Bars,
    config: SimulationConfig | None = None,
    costs: Costs | None = None,
    *,
    periods_per_year: float = 252.0,
    volatility_window: int = 20,
    shared_average_bytes: int = SHARED_AVERAGE_BYTES,
) -> SearchResults:
    """Validate every candidate (invalid ones are skipped and counted), then run them in parallel.

    Moving-average crosses compute each distinct average once for all rows, in tiles of rows whose
    averages fit in ``shared_average_bytes`` (``shared_averages``); the rows' results are the same
    whichever path ran, and ``SearchResults.path`` names it.
    """
    heap_reuse_once()
    spec = _spec(strategy)
    if strategy not in STRATEGY_IDS:
        raise ValueError(f"strategy: {strategy} cannot be optimised in compiled code yet")
    config = normalized_config(config or SimulationConfig())
    validate_config(config)
    costs = normalized_costs(costs or Costs())
    valid: list[dict[str, ParamValue]] = []
    for candidate in candidates:
        try:
            valid.append(validate_params(spec, candidate))
        except InvalidParameters:
            continue
    names = [p.name for p in spec.params]
    rows = np.array([[float(v[name]) for name in names] for v in valid], dtype=np.float64).reshape(
        -1, len(names)
    )
    prices = [
        np.ascontiguousarray(getattr(bars, f), dtype=np.float64) for f in ("open", "high", "low", "close")
    ]
    volume = np.ascontiguousarray(bars.volume, dtype=np.float64)
    if config.sizing_mode == SizingMode.VOLATILITY_TARGET:
        volatility = rolling_volatility(prices[3], volatility_window, periods_per_year)
    else:
        volatility = np.empty(0)
    open_, high, low, close = prices
    bad = first_invalid_bar(open_, high, low, close, volume)
    if bad >= 0:
        raise ValueError(f"bars: bar {bad} has a non-finite or non-positive price or a negative volume")
    sid = STRATEGY_IDS[strategy]
    table, path = shared_average_grid(sid, rows, (open_, high, low, close, volume), volatility, config,
                                      costs, periods_per_year, shared_average_bytes)  # fmt: skip
    if table is None:
        table = run_grid(sid, rows, open_, high, low, close, volume, volatility, config, costs,
                         periods_per_year)  # fmt: skip
    return SearchResults(
        strategy,
        {name: rows[:, i] for i, name in enumerate(names)},
        {name: table[:, i] for i, name in enumerate(SUMMARY_COLUMNS)},
        len(candidates) - len(valid),
        path,
    )


def grid_candidates(grid: Mapping[str, Sequence[object]]) -> list[dict[str, object]]:
    """Every combination of the listed values (parameters not listed keep their defaults)."""
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(grid[n] for n in names))]


def random_candidates(
    strategy: str, space: Mapping[str, tuple[float, float] | Sequence[object]], count: int, seed: int = 0
) -> list[dict[str, object]]:
    """``count`` draws: a (low, high) pair is sampled uniformly (integers inclusive), a list by choice."""
    spec = _spec(strategy)
    kinds = {p.name: p.kind for p in spec.params}
    rng = np.random.default_rng(seed)
    draws: list[dict[str, object]] = [{} for _ in range(count)]
    for name, choice in space.items():
        if name not in kinds:
            raise InvalidParameters(name, f"unknown parameter for strategy {strategy}")
        if isinstance(choice, tuple) and len(choice) == 2 and kinds[name] is not bool:
            low, high = float(choice[0]), float(choice[1])  # type: ignore[arg-type]
            if kinds[name] is int:
                values: list[object] = rng.integers(int(low), int(high) + 1, count).tolist()
            else:
                values = rng.uniform(low, high, count).tolist()
        else:
            options = list(choice)
            values = [options[i] for i in rng.integers(0, len(options), count)]
        for draw, value in zip(draws, values, strict=True):
            draw[name] = value
    return draws
