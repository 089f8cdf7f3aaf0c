"""Grid trading and DCA: multi-lot built-in strategies with parameter schemas."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from tradeloom.quant.fills.models import Costs, SlippageModel, normalized_costs
from tradeloom.quant.simulator.api import Bars, SimulationResult, Trades, first_invalid_bar
from tradeloom.quant.simulator.lots import dca_simulate, grid_simulate
from tradeloom.quant.strategies.schema import LotStrategySpec, ParamSpec, ParamValue, validate_params

TAKE_PROFIT_HELP = "sell every lot when the close is this fraction above the average cost (0: off)"


def _grid_bounds(p: Mapping[str, ParamValue]) -> str | None:
    return "upper: must be above lower" if p["upper"] <= p["lower"] else None


LOT_STRATEGIES: dict[str, LotStrategySpec] = {
    spec.name: spec
    for spec in (
        LotStrategySpec(
            "grid",
            "Long grid: buy a lot at each level on the way down, sell it one level higher.",
            (
                ParamSpec("lower", float, 90.0, 1e-12, None, "lowest grid price"),
                ParamSpec("upper", float, 110.0, 1e-12, None, "highest grid price"),
                ParamSpec("levels", int, 11, 2, 1000, "number of price levels (lots = levels − 1)"),
                ParamSpec("cash_per_lot", float, 1000.0, 1e-12, None, "cash put into each lot"),
            ),
            (_grid_bounds,),
        ),
        LotStrategySpec(
            "dca",
            "Dollar-cost averaging: buy a fixed cash amount every interval bars; optional take-profit.",
            (
                ParamSpec("interval", int, 24, 1, 1_000_000, "bars between buys"),
                ParamSpec("amount", float, 100.0, 1e-12, None, "cash per buy"),
                ParamSpec(
                    "take_profit",
                    float,
                    0.0,
                    0.0,
                    10.0,
                    TAKE_PROFIT_HELP,
                ),
            ),
        ),
    )
}


def run_lot_strategy(
    name: str,
    bars: Bars,
    raw_params: Mapping[str, object],
    initial_cash: float,
    costs: Costs | None = None,
    *,
    whole_units: bool = False,
) -> SimulationResult:
    """Validate parameters and bars, run the multi-lot simulator, name the outputs."""
    spec = LOT_STRATEGIES.get(name)
    if spec is None:
        raise ValueError(f"strategy: unknown multi-lot strategy {name!r}")
    if not math.isfinite(initial_cash) or initial_cash <= 0:
        raise ValueError("initial_cash: must be a positive finite number")
    p = validate_params(spec, raw_params)
    o, h, lo, c = (
        np.ascontiguousarray(getattr(bars, f), dtype=np.float64) for f in ("open", "high", "low", "close")
    )
    if not (o.shape == h.shape == lo.shape == c.shape and c.ndim == 1):
        raise ValueError("bars: open, high, low and close must be 1-D arrays of one length")
    bad = first_invalid_bar(o, h, lo, c, np.zeros_like(c))
    if bad >= 0:
        raise ValueError(f"bars: bar {bad} has a non-finite or non-positive price")
    cost = normalized_costs(costs or Costs())
    if cost.slippage_model == SlippageModel.RANDOM:  # the lot kernels keep no fill counter
        raise ValueError("costs: the random slippage model is not available for multi-lot strategies")
    if name == "grid":
        levels = np.linspace(float(p["lower"]), float(p["upper"]), int(p["levels"]))
        per_lot = float(p["cash_per_lot"])
        table, equity, position, _ = grid_simulate(
            o, h, lo, c, levels, per_lot, initial_cash, whole_units, cost
        )
    else:
        interval, amount = int(p["interval"]), float(p["amount"])
        take_profit = float(p["take_profit"]) or math.nan
        table, equity, position, _ = dca_simulate(
            o, h, lo, c, interval, amount, take_profit, initial_cash, whole_units, cost
        )
    return SimulationResult(Trades(table, bars.time), equity, position)
