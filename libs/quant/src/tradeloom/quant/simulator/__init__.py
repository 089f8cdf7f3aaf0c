"""The bar-by-bar compiled backtest simulator and its trade records."""

from tradeloom.quant.simulator.api import Bars, Signals, SimulationResult, Trades, run_simulation
from tradeloom.quant.simulator.config import ExitReason, SimulationConfig, TradeColumn
from tradeloom.quant.simulator.kernel import simulate

__all__ = [
    "Bars",
    "ExitReason",
    "Signals",
    "SimulationConfig",
    "SimulationResult",
    "TradeColumn",
    "Trades",
    "run_simulation",
    "simulate",
]
