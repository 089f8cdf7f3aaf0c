# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""The bar rules of the market fast path, written once and inlined into every loop that runs them.

``simulate_market``, the fused SMA-cross backtest and the grid's market rows keep their per-bar
state in local variables (``simulate_general`` and the general grid row share the signal rule and
the bar check too). Each helper here is ``inline="always"`` and takes and returns scalars (the
market row's ``Book``: a tuple of the new locals), so after inlining each loop compiles to the
scalar code it had when the rules were written out in it.

Measured, and the reason the bar itself is not a helper: an inlined helper that takes arrays copies
their references, and on every bar that runs it each copy costs an atomic increment and decrement
(about 4 ms per array per 1M bars here, as the atomics wait for the loop's streaming stores). So
only the rare fills (``market_exit``, ``market_entry``, used by the market row) take the state and
trade arrays; the rules every bar runs (``valid_bar``, ``signal_orders``) take scalars.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeloom.quant.fills.models import Costs
from tradeloom.quant.simulator.config import SIGNAL_EXIT, SimulationConfig
from tradeloom.quant.simulator.state import CASH, HIGHEST, LOWEST, POSITION, enter, exit_position
from tradeloom.quant.types import FloatArray

# the open position in locals: (cash, signed units held, its lowest and highest price so far)
Book = tuple[float, float, float, float]


@njit(cache=True, inline="always")
def valid_bar(o: float, h: float, lo: float, c: float, v: float) -> bool:
    """The simulator's bar check: positive finite prices, a finite non-negative volume (one test
    rather than a branch each: a NaN fails ``isfinite``)."""
    return bool((min(o, h, lo, c) > 0.0) & (v >= 0.0) & np.isfinite(o + h + lo + c + v))


@njit(cache=True, inline="always")
def signal_orders(entry_long: bool, exit_long: bool, entry_short: bool, exit_short: bool,
                  held: float) -> tuple[bool, int]:  # fmt: skip
    """(close the position, side to enter: +1, −1 or 0) from one bar's four signals and the signed
    position: an entry cancelled by its own side's exit, both entries cancel each other, an opposite
    entry closes the position first."""
    go_long = entry_long and not exit_long
    go_short = entry_short and not exit_short
    if go_long and go_short:
        go_long = go_short = False
    wants_exit = (held > 0.0 and (exit_long or go_short)) or (held < 0.0 and (exit_short or go_long))
    side = 1 if go_long and held <= 0.0 else (-1 if go_short and held >= 0.0 else 0)
    return wants_exit, side


@njit(cache=True, inline="always")
def market_exit(state: FloatArray, trades: FloatArray, price: float, v: float, t: int, costs: Costs,
                book: Book) -> Book:  # fmt: skip
    """Close the position of ``book`` at ``price`` (a market exit, recorded in ``trades``): the book
    with the new cash and no position."""
    cash, held, lowest, highest = book
    state[CASH], state[POSITION], state[LOWEST], state[HIGHEST] = cash, held, lowest, highest
    exit_position(state, trades, price, False, v, t, SIGNAL_EXIT, costs)
    return state[CASH], 0.0, lowest, highest


@njit(cache=True, inline="always")
def market_entry(state: FloatArray, side: int, price: float, v: float, volatility: float, t: int,
                 config: SimulationConfig, costs: Costs, book: Book) -> tuple[bool, Book]:  # fmt: skip
    """A market entry from flat at ``price``: (entered, the new book), the book unchanged when
    nothing was affordable."""
    state[CASH] = book[0]
    entered = enter(state, side, price, False, v, volatility, t, config, costs)
    if entered:
        book = (state[CASH], state[POSITION], state[LOWEST], state[HIGHEST])
    return entered, book
