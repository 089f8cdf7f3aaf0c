"""Python entry point of the simulator: validates inputs, runs the kernel, names the outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from tradeloom.quant.fills.models import Costs, SizingMode, normalized_costs
from tradeloom.quant.indicators.volatility import rolling_volatility
from tradeloom.quant.memory import heap_reuse_once
from tradeloom.quant.simulator.config import (
    COUNTER_NAMES,
    ExitReason,
    SimulationConfig,
    TradeColumn,
    normalized_config,
)
from tradeloom.quant.simulator.kernel import simulate
from tradeloom.quant.types import BoolArray, FloatArray, IntArray

NS_PER_DAY = 86_400 * 1_000_000_000


@dataclass(frozen=True)
class Bars:
    """OHLCV as float64 arrays of one length; ``time`` (int64 ns, UTC) is optional."""

    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    time: IntArray | None = None


@dataclass(frozen=True)
class Signals:
    """Boolean signal arrays; a missing short side means long-only. ``entry_level`` is the limit or
    stop price of an entry signalled on that bar (NaN: market); None or empty: no levels at all."""

    entry_long: BoolArray
    exit_long: BoolArray
    entry_short: BoolArray | None = None
    exit_short: BoolArray | None = None
    entry_level: FloatArray | None = None


@dataclass(frozen=True)
class Trades:
    """Trade records; indices are bar numbers, times are int64 ns when the bars had times."""

    table: FloatArray
    time: IntArray | None

    def column(self, column: TradeColumn) -> FloatArray:
        return self.table[:, int(column)]

    def __len__(self) -> int:
        return int(self.table.shape[0])

    @property
    def entry_index(self) -> IntArray:
        return self.column(TradeColumn.ENTRY_INDEX).astype(np.int64)

    @property
    def exit_index(self) -> IntArray:
        return self.column(TradeColumn.EXIT_INDEX).astype(np.int64)

    @property
    def pnl(self) -> FloatArray:
        return self.column(TradeColumn.PNL)

    @property
    def returns(self) -> FloatArray:
        return self.column(TradeColumn.RETURN)

    @property
    def is_open(self) -> BoolArray:
        flags: BoolArray = self.column(TradeColumn.EXIT_REASON) == ExitReason.END_OF_DATA
        return flags

    @property
    def duration_bars(self) -> IntArray:
        return self.exit_index - self.entry_index

    def entry_time(self) -> IntArray | None:
        return None if self.time is None else self.time[self.entry_index]

    def exit_time(self) -> IntArray | None:
        return None if self.time is None else self.time[self.exit_index]

    def duration_ns(self) -> IntArray | None:
        """Exit time − entry time in nanoseconds (None without bar times)."""
        entry, exit_ = self.entry_time(), self.exit_time()
        return None if entry is None or exit_ is None else exit_ - entry

    def closed(self) -> Trades:
        return Trades(self.table[~self.is_open], self.time)


@dataclass(frozen=True)
class SimulationResult:
    trades: Trades
    equity: FloatArray  # marked at each close
    position: FloatArray  # signed units held at each close
    counters: dict[str, int] = field(default_factory=dict)  # COUNTER_NAMES: entries, daily_limit_hits

    @property
    def drawdown(self) -> FloatArray:
        """Fractional drawdown from the running equity peak (≤ 0)."""
        peak = np.maximum.accumulate(self.equity) if self.equity.size else self.equity
        out: FloatArray = self.equity / peak - 1.0
        return out


def _as_float(name: str, values: object, n: int) -> FloatArray:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(f"{name}: expected a 1-D array of length {n}, got shape {array.shape}")
    return array


def _as_bool(name: str, values: object | None, n: int) -> BoolArray:
    if values is None:
        return np.zeros(n, dtype=np.bool_)
    array: BoolArray = np.ascontiguousarray(values, dtype=np.bool_)
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(f"{name}: expected a 1-D array of length {n}, got shape {array.shape}")
    return array


@njit(cache=True)
def first_invalid_bar(
    open_: FloatArray, high: FloatArray, low: FloatArray, close: FloatArray, volume: FloatArray
) -> int:
    """Index of the first bar with a non-finite or non-positive price or a negative/NaN volume; −1 if none."""
    for i in range(close.shape[0]):
        prices_ok = open_[i] > 0.0 and high[i] > 0.0 and low[i] > 0.0 and close[i] > 0.0
        finite = np.isfinite(open_[i] + high[i] + low[i] + close[i] + volume[i])
        if not (prices_ok and finite and volume[i] >= 0.0):
            return i
    return -1


def _levels(values: FloatArray | None, n: int) -> FloatArray:
    """Limit/stop entry levels, or an empty array meaning "market entries only"."""
    if values is None or (np.ndim(values) == 1 and np.shape(values)[0] == 0):
        return np.empty(0)
    return _as_float("entry_level", values, n)


def validate_config(config: SimulationConfig) -> None:
    if not np.isfinite(config.initial_cash) or config.initial_cash <= 0:
        raise ValueError("initial_cash: must be a positive finite number")
    if config.entry_ttl < 1:
        raise ValueError("entry_ttl: must be at least 1 bar")
    for name in ("stop_loss", "take_profit", "trailing_stop"):
        value = getattr(config, name)
        if not np.isnan(value) and not 0 < value < (10 if name == "take_profit" else 1):
            raise ValueError(f"{name}: must be a fraction of the entry price (or NaN for off)")
    if not np.isfinite(config.sizing_value) or config.sizing_value <= 0:
        raise ValueError("sizing_value: must be a positive finite number")
    if config.max_leverage <= 0:
        raise ValueError("max_leverage: must be positive")
    if config.max_entries_per_day < 0:
        raise ValueError("max_entries_per_day: must be 0 (no limit) or more")


def price_arrays(bars: Bars) -> list[FloatArray]:
    """open, high, low, close, volume as contiguous float64 arrays of one length (ValueError naming
    the field otherwise)."""
    n = int(np.asarray(bars.close).shape[0])
    return [_as_float(name, getattr(bars, name), n) for name in ("open", "high", "low", "close", "volume")]


def volatility_for(
    config: SimulationConfig, close: FloatArray, window: int, periods_per_year: float
) -> FloatArray:
    """The volatility target's annualised rolling volatility, or empty when not sizing by it."""
    if config.sizing_mode == SizingMode.VOLATILITY_TARGET:
        return rolling_volatility(close, window, periods_per_year)
    return np.empty(0)


def run_simulation(  # noqa: PLR0917
    bars: Bars,
    signals: Signals,
    config: SimulationConfig | None = None,
    costs: Costs | None = None,
    volatility_window: int = 20,
    periods_per_year: float = 252.0,
) -> SimulationResult:
    """Simulate ``signals`` on ``bars``. The volatility target uses the annualised rolling volatility
    of close-to-close returns over ``volatility_window`` bars."""
    heap_reuse_once()  # the run's 8 MB arrays come back from the heap, not fresh page faults
    config = normalized_config(config or SimulationConfig())
    costs = normalized_costs(costs or Costs())
    validate_config(config)
    prices = price_arrays(bars)
    n = prices[3].shape[0]
    flags = [
        _as_bool(name, getattr(signals, name), n)
        for name in ("entry_long", "exit_long", "entry_short", "exit_short")
    ]
    level = _levels(signals.entry_level, n)
    volatility = volatility_for(config, prices[3], volatility_window, periods_per_year)
    open_, high, low, close, volume = prices
    entry_long, exit_long, entry_short, exit_short = flags
    table, equity, position, bad, counters = simulate(
        open_, high, low, close, volume, entry_long, exit_long, entry_short, exit_short,
        level, volatility, _days(bars, config, n), config, costs,
    )  # fmt: skip
    if bad >= 0:
        raise ValueError(f"bars: bar {bad} has a non-finite or non-positive price or a negative volume")
    named = {name: int(value) for name, value in zip(COUNTER_NAMES, counters.tolist(), strict=True)}
    return SimulationResult(Trades(table, bars.time), equity, position, named)


def _days(bars: Bars, config: SimulationConfig, n: int) -> IntArray:
    """UTC day number of every bar when the daily entry limit is on, else empty."""
    if config.max_entries_per_day <= 0:
        return np.empty(0, dtype=np.int64)
    if bars.time is None or np.shape(bars.time)[0] != n:
        raise ValueError("max_entries_per_day: needs bar times (Bars.time)")
    days: IntArray = np.asarray(bars.time, dtype=np.int64) // NS_PER_DAY
    return days
