"""Batches of orders and of their pre-trade checks (issue 13: a candle's bot orders at once).

``svc.order-router.orders_submit_batch``: up to ``MAX_BATCH`` orders of the caller, each with its
own ``client_order_id`` (or ``idempotency_key``), answered one result per order in the order
asked: the order as ``orders_submit`` would answer it, or that order's error (one bad order never
fails the others). Idempotent per order like ``orders_submit``: a retried batch answers the orders
stored the first time, never second ones.

``svc.risk-monitor.check_batch``: the pre-trade check of several orders in one request, each
checked as ``check`` would (in the order given: an earlier order of the batch counts as pending
for a later one), one reply per check in the same order.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradeloom.shared.contracts.orders import OrderInfo, OrderSubmit
from tradeloom.shared.contracts.orders_common import SERVICE as ORDER_ROUTER
from tradeloom.shared.contracts.orders_common import Reply, Request
from tradeloom.shared.contracts.risk import SERVICE as RISK_MONITOR
from tradeloom.shared.contracts.risk import RiskCheckReply, RiskCheckRequest
from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.system import ErrorBody

MAX_BATCH = 100  # orders (or checks) in one request: 100 bots' orders fit well under 1 MB


class OrderSubmitBatch(Request):
    """Orders of the caller submitted together (they may be on different accounts)."""

    orders: list[OrderSubmit] = Field(min_length=1, max_length=MAX_BATCH)


class OrderBatchResult(Reply):
    """One order's outcome: ``order`` as ``orders_submit`` answers it, or its ``error`` (exactly one:
    the schema says so with ``oneOf``, and its example is a refused order)."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            # exactly one of the two is set: the other absent or null
            "oneOf": [
                {"properties": {"error": {"type": "null"}}},
                {"properties": {"order": {"type": "null"}}},
            ],
            "examples": [
                {
                    "error": {
                        "code": "validation_error",
                        "message": "quantity: 0.0001 is below the minimum quantity 0.001",
                        "details": {"field": "quantity"},
                    }
                }
            ],
        },
    )

    order: OrderInfo | None = None
    error: ErrorBody | None = Field(default=None, description="this order's error reply body")

    @model_validator(mode="after")
    def _one_of(self) -> OrderBatchResult:
        if (self.order is None) == (self.error is None):
            raise ValueError("exactly one of order and error")
        return self


class OrderSubmitBatchReply(Reply):
    results: list[OrderBatchResult] = Field(max_length=MAX_BATCH, description="one per order, same order")


class RiskCheckBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    checks: list[RiskCheckRequest] = Field(min_length=1, max_length=MAX_BATCH)


class RiskCheckBatchReply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    results: list[RiskCheckReply] = Field(max_length=MAX_BATCH, description="one per check, same order")


ORDER_REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        ORDER_ROUTER, "orders_submit_batch", OrderSubmitBatch, OrderSubmitBatchReply,
        "Submit several orders at once (idempotent per order; one result per order).",
    ),
)  # fmt: skip
RISK_REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        RISK_MONITOR, "check_batch", RiskCheckBatchRequest, RiskCheckBatchReply,
        "Pre-trade check of several orders, one reply each.",
    ),
)  # fmt: skip
REQUESTS = (*ORDER_REQUESTS, *RISK_REQUESTS)
