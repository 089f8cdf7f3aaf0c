"""Fill rules: where orders fill, slippage, commission and sizing — pure, shared with the paper exchange."""

from tradeloom.quant.fills.costs import (
    commission,
    commission_rate,
    fillable_quantity,
    slipped_price,
    tier_rate,
)
from tradeloom.quant.fills.models import CommissionModel, Costs, OrderType, Side, SizingMode, SlippageModel
from tradeloom.quant.fills.prices import (
    limit_fill_price,
    order_fill_price,
    stop_fill_price,
    trailing_stop_level,
)
from tradeloom.quant.fills.sizing import affordable_quantity, target_quantity

__all__ = [
    "CommissionModel",
    "Costs",
    "OrderType",
    "Side",
    "SizingMode",
    "SlippageModel",
    "affordable_quantity",
    "commission",
    "commission_rate",
    "fillable_quantity",
    "limit_fill_price",
    "order_fill_price",
    "slipped_price",
    "stop_fill_price",
    "target_quantity",
    "tier_rate",
    "trailing_stop_level",
]
