"""Integer codes for order types and cost/sizing models (IntEnum: usable inside Numba kernels)."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np

from tradeloom.quant.types import FloatArray


class Side(IntEnum):
    BUY = 1
    SELL = -1


class OrderType(IntEnum):
    MARKET = 0
    LIMIT = 1
    STOP = 2


class SlippageModel(IntEnum):
    NONE = 0
    FIXED = 1  # price units per unit traded
    PERCENT = 2  # fraction of the price
    VOLUME_SHARE = 3  # impact × price × (quantity / bar volume)², quantity capped at a share of volume
    RANDOM = 4  # uniform in [0, slippage) × price, drawn per fill from slippage_seed (reproducible)


class CommissionModel(IntEnum):
    NONE = 0
    FIXED = 1  # cash per fill
    PERCENT = 2  # fraction of notional, maker or taker rate
    TIERED = 3  # fraction of notional, rate by cumulative traded notional, maker or taker


class SizingMode(IntEnum):
    FIXED_QUANTITY = 0
    FIXED_CASH = 1
    PERCENT_EQUITY = 2  # 1.0 = all in
    VOLATILITY_TARGET = 3  # notional = equity × target vol / instrument vol, capped by max leverage


class Costs(NamedTuple):
    """Slippage and commission settings of one run (a NamedTuple so compiled kernels can take it)."""

    slippage_model: int = int(SlippageModel.NONE)
    slippage: float = 0.0  # FIXED: price units; PERCENT: fraction; VOLUME_SHARE: impact coefficient
    volume_cap: float = 0.025  # VOLUME_SHARE: at most this share of a bar's volume fills
    commission_model: int = int(CommissionModel.NONE)
    fixed_fee: float = 0.0  # FIXED: cash per fill
    maker_rate: float = 0.0  # PERCENT: fraction of notional for passive (limit) fills
    taker_rate: float = 0.0  # PERCENT: fraction of notional for aggressive fills
    tier_thresholds: FloatArray = np.zeros(1)  # TIERED: cumulative traded notional where a tier starts
    tier_maker_rates: FloatArray = np.zeros(1)
    tier_taker_rates: FloatArray = np.zeros(1)
    slippage_seed: int = 0  # RANDOM: the run's seed (0 ≤ seed < 2**63); fill n takes draw n


def normalized_costs(costs: Costs) -> Costs:
    """Plain Python scalars and contiguous float64 tier arrays (one compiled specialisation)."""
    thresholds = np.ascontiguousarray(costs.tier_thresholds, dtype=np.float64)
    maker = np.ascontiguousarray(costs.tier_maker_rates, dtype=np.float64)
    taker = np.ascontiguousarray(costs.tier_taker_rates, dtype=np.float64)
    same_length = len(thresholds) == len(maker) == len(taker)
    if not (thresholds.ndim == maker.ndim == taker.ndim == 1 and same_length):
        raise ValueError("tier_thresholds, tier_maker_rates, tier_taker_rates: 1-D arrays of one length")
    return Costs(
        int(costs.slippage_model), float(costs.slippage), float(costs.volume_cap),
        int(costs.commission_model),
        float(costs.fixed_fee), float(costs.maker_rate), float(costs.taker_rate), thresholds, maker, taker,
        int(costs.slippage_seed),
    )  # fmt: skip
