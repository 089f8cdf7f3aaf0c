"""Built-in strategies: compiled signal kernels and their parameter schemas."""

from tradeloom.quant.strategies.catalog import BUILTIN_STRATEGIES, strategy_signals
from tradeloom.quant.strategies.counters import STRATEGY_EVENTS, strategy_counters
from tradeloom.quant.strategies.lot_strategies import LOT_STRATEGIES, run_lot_strategy
from tradeloom.quant.strategies.schema import (
    InvalidParameters,
    LotStrategySpec,
    OhlcArrays,
    ParamSpec,
    StrategySpec,
    validate_params,
)

__all__ = [
    "BUILTIN_STRATEGIES",
    "LOT_STRATEGIES",
    "STRATEGY_EVENTS",
    "InvalidParameters",
    "LotStrategySpec",
    "OhlcArrays",
    "ParamSpec",
    "StrategySpec",
    "run_lot_strategy",
    "strategy_counters",
    "strategy_signals",
    "validate_params",
]
