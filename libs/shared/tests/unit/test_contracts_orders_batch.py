"""Batch contracts (``orders_submit_batch``, ``check_batch``): bounds, one result per order as
either the order or its error, decimals as plain strings, and their generated schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tradeloom.shared.contracts.catalog import REQUESTS
from tradeloom.shared.contracts.orders_batch import (
    MAX_BATCH,
    OrderBatchResult,
    OrderSubmitBatch,
    OrderSubmitBatchReply,
    RiskCheckBatchReply,
    RiskCheckBatchRequest,
)
from tradeloom.shared.nats_permissions import IDENTITIES

CONTRACTS = Path(__file__).resolve().parents[4] / "contracts" / "requests"
ORDER: dict[str, Any] = {"account_id": "a1", "client_order_id": "bot-1-2", "symbol": "BTC/USDT",
                         "side": "buy", "type": "market", "quantity": "0.1"}  # fmt: skip
INFO: dict[str, Any] = json.loads((CONTRACTS / "order-router.orders_submit.reply.example.json").read_text())
CHECK: dict[str, Any] = json.loads((CONTRACTS / "risk-monitor.check.request.example.json").read_text())


def test_a_batch_holds_one_to_max_batch_orders_each_validated() -> None:
    batch = OrderSubmitBatch.model_validate({"orders": [ORDER, {**ORDER, "client_order_id": "bot-1-3"}]})
    assert [o.client_order_id for o in batch.orders] == ["bot-1-2", "bot-1-3"]
    for bad in (
        {"orders": []},
        {"orders": [ORDER] * (MAX_BATCH + 1)},
        {"orders": [{**ORDER, "quantity": "-1"}]},
    ):
        with pytest.raises(ValidationError):
            OrderSubmitBatch.model_validate(bad)


def test_a_result_is_the_order_or_its_error_never_both() -> None:
    error = {"code": "validation_error", "message": "quantity: not enough USDT is free", "details": {}}
    reply = OrderSubmitBatchReply.model_validate({"results": [{"order": INFO}, {"error": error}]})
    assert reply.results[0].order is not None and reply.results[1].error is not None
    wire = json.loads(reply.model_dump_json())["results"][0]["order"]
    assert wire["quantity"] == INFO["quantity"]  # decimals stay plain strings
    for bad in ({}, {"order": INFO, "error": error}):
        with pytest.raises(ValidationError):
            OrderBatchResult.model_validate(bad)


def test_check_batch_carries_whole_checks_and_one_reply_each() -> None:
    request = RiskCheckBatchRequest.model_validate({"checks": [CHECK, CHECK]})
    assert len(request.checks) == 2
    reply = RiskCheckBatchReply.model_validate(
        {"results": [{"approved": True}, {"approved": False, "reason": "x"}]}
    )
    assert [r.approved for r in reply.results] == [True, False]
    with pytest.raises(ValidationError):
        RiskCheckBatchRequest.model_validate({"checks": []})


def test_both_ops_are_in_the_catalog_with_schemas_and_the_router_may_ask_check_batch() -> None:
    ops = {(c.service, c.op) for c in REQUESTS}
    assert {("order-router", "orders_submit_batch"), ("risk-monitor", "check_batch")} <= ops
    for stem in ("order-router.orders_submit_batch", "risk-monitor.check_batch"):
        for part in ("request", "reply"):
            assert (CONTRACTS / f"{stem}.{part}.schema.json").is_file()
    router = next(i for i in IDENTITIES if i.name == "order-router")
    assert "risk-monitor.check_batch" in router.requests
