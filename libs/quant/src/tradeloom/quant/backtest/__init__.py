"""A built-in strategy's whole backtest in one call (``run_template_backtest``): one fused pass for
an SMA cross on the market fast path, the three passes (signals, simulation, summary) otherwise."""

from tradeloom.quant.backtest.api import (
    FUSED,
    THREE_PASS,
    TemplateBacktest,
    fused_qualifies,
    run_template_backtest,
)

__all__ = ["FUSED", "THREE_PASS", "TemplateBacktest", "fused_qualifies", "run_template_backtest"]
