"""The order metrics' labels stay bounded: reasons lose their figures and free text."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from tradeloom.order_router.metrics import OrderMetrics, reason_label


def test_reason_labels_keep_only_the_leading_words() -> None:
    assert reason_label("risk_rejected: max_position_notional: 1200 > 1000") == (
        "risk_rejected/max_position_notional"
    )
    assert reason_label("risk_rejected: bot max_position: 2 > 1; max_daily_loss: loss 5 >= 4") == (
        "risk_rejected/bot_max_position"
    )
    assert (
        reason_label("risk_rejected: trading_halted: a reason anyone typed") == "risk_rejected/trading_halted"
    )
    assert reason_label("risk_check_unavailable") == "risk_check_unavailable"
    assert reason_label("12 apples") == "other"
    assert reason_label(None) == ""


def test_submissions_are_counted_by_outcome_and_reason() -> None:
    registry = CollectorRegistry()
    metrics = OrderMetrics(registry)
    metrics.submitted("new", None)
    metrics.submitted("rejected", "risk_rejected: max_open_orders: 4 > 3")
    metrics.refused("conflict", "trading_halted")
    value = registry.get_sample_value
    assert value("tl_orders_submitted_total", {"outcome": "new", "reason": ""}) == 1
    assert (
        value("tl_orders_submitted_total", {"outcome": "rejected", "reason": "risk_rejected/max_open_orders"})
        == 1
    )
    assert value("tl_orders_submitted_total", {"outcome": "refused", "reason": "trading_halted"}) == 1
