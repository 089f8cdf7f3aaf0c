"""Perpetual margin: tiered maintenance-margin brackets and isolated/cross liquidation prices."""

from tradeloom.quant.margin.brackets import (
    DEFAULT_BRACKETS,
    Bracket,
    Brackets,
    bracket_for,
    brackets_from,
    check_brackets,
    flat_brackets,
    maintenance_margin,
)
from tradeloom.quant.margin.liquidation import (
    CrossMargin,
    CrossPosition,
    cross_collateral,
    cross_liquidation_prices,
    cross_margin,
    equity_at,
    liquidation_price,
    margin_ratio,
)

__all__ = [
    "DEFAULT_BRACKETS",
    "Bracket",
    "Brackets",
    "CrossMargin",
    "CrossPosition",
    "bracket_for",
    "brackets_from",
    "check_brackets",
    "cross_collateral",
    "cross_liquidation_prices",
    "cross_margin",
    "equity_at",
    "flat_brackets",
    "liquidation_price",
    "maintenance_margin",
    "margin_ratio",
]
