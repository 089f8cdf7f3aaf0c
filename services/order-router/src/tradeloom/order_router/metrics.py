"""order-router's trading figures on ``/metrics``: submissions by outcome and fills.

Counted where they are written: a fill of a batch that rolls back and is applied again is counted
twice in this process (rare: the batch's transaction failed); the database stays the truth.
"""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter

WORD = re.compile(r"[a-z][a-z_ ]*")


def reason_label(reason: str | None) -> str:
    """A bounded label from a reject reason: its first one or two ``:``-separated words, never the
    figures or free text after them (``risk_rejected: max_position_notional: 1200 > 1000`` →
    ``risk_rejected/max_position_notional``)."""
    if not reason:
        return ""
    parts = [part.strip() for part in reason.split(";")[0].split(":")[:2]]
    words = []
    for part in parts:
        if not WORD.fullmatch(part):
            break
        words.append(part.replace(" ", "_"))
    return "/".join(words) or "other"


class OrderMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.orders = Counter(
            "tl_orders_submitted",
            "Order submissions by outcome (the order's status, or refused) and reason",
            ["outcome", "reason"],
            registry=registry,
        )
        self.fills = Counter(
            "tl_order_fills", "Fills recorded, by venue and side", ["venue", "side"], registry=registry
        )

    def submitted(self, status: str, reason: str | None) -> None:
        self.orders.labels(status, reason_label(reason)).inc()

    def refused(self, code: str, reason: str | None) -> None:
        """A submission answered with an error (nothing stored): its error code or conflict reason."""
        self.orders.labels("refused", reason_label(reason or code)).inc()
