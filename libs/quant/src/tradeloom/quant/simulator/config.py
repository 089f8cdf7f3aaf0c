"""Settings of one simulated run and the layout of the trade-record table."""

from __future__ import annotations

import math
from enum import IntEnum
from typing import NamedTuple

from tradeloom.quant.fills.models import OrderType, SizingMode


class SimulationConfig(NamedTuple):
    """How signals become orders and fills (a NamedTuple so the compiled kernel can take it).

    Stop-loss, take-profit and trailing-stop distances are fractions of the entry price (NaN: off).
    """

    initial_cash: float = 10_000.0
    fill_on_close: bool = False  # False: fill at the next bar's open; True: at the signal bar's close
    entry_order_type: int = int(OrderType.MARKET)  # LIMIT/STOP entries work at the signal's entry level
    entry_ttl: int = 1  # bars a limit/stop entry keeps working before it is cancelled
    stop_loss: float = math.nan
    take_profit: float = math.nan
    trailing_stop: float = math.nan
    sizing_mode: int = int(SizingMode.PERCENT_EQUITY)
    sizing_value: float = 1.0  # units, cash, fraction of equity or annual target volatility
    whole_units: bool = False
    max_leverage: float = 1.0  # only the volatility target can ask for more than the equity
    max_entries_per_day: int = 0  # entries filled per UTC day at most (0: no limit; needs bar times)


def normalized_config(config: SimulationConfig) -> SimulationConfig:
    """Plain Python scalars in every field, so one compiled specialisation serves all callers."""
    return SimulationConfig(
        float(config.initial_cash), bool(config.fill_on_close), int(config.entry_order_type),
        int(config.entry_ttl), float(config.stop_loss), float(config.take_profit),
        float(config.trailing_stop), int(config.sizing_mode), float(config.sizing_value),
        bool(config.whole_units), float(config.max_leverage), int(config.max_entries_per_day),
    )  # fmt: skip


class ExitReason(IntEnum):
    SIGNAL = 0
    STOP_LOSS = 1
    TAKE_PROFIT = 2
    TRAILING_STOP = 3
    END_OF_DATA = 4  # still open at the last bar: marked at the last close


# Plain ints for the compiled code (IntEnum members do not cast to float64 inside Numba).
SIGNAL_EXIT = int(ExitReason.SIGNAL)
STOP_LOSS_EXIT = int(ExitReason.STOP_LOSS)
TAKE_PROFIT_EXIT = int(ExitReason.TAKE_PROFIT)
TRAILING_STOP_EXIT = int(ExitReason.TRAILING_STOP)
END_OF_DATA_EXIT = int(ExitReason.END_OF_DATA)
MARKET_ORDER = int(OrderType.MARKET)
LIMIT_ORDER = int(OrderType.LIMIT)


class TradeColumn(IntEnum):
    """Columns of the float64 trade-record table the kernel returns."""

    DIRECTION = 0  # +1 long, −1 short
    ENTRY_INDEX = 1
    EXIT_INDEX = 2
    ENTRY_PRICE = 3
    EXIT_PRICE = 4
    SIZE = 5  # units, positive
    PNL = 6  # net of entry and exit fees
    RETURN = 7  # PNL / entry notional
    FEES = 8
    MAE = 9  # worst excursion against the trade, fraction of entry price (≤ 0)
    MFE = 10  # best excursion in favour, fraction of entry price (≥ 0)
    EXIT_REASON = 11


TRADE_COLUMNS = len(TradeColumn)


# What the kernel counts besides trades (its ``counters`` output, in this order).
COUNTER_NAMES = ("entries", "daily_limit_hits")
