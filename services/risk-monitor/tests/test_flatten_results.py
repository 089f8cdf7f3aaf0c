"""The halt view's flatten results: order-router's ``flatten_completed`` (with what it left open)
kept once per flatten and listed for the account's owner only (real NATS and Postgres)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from rm_harness import RiskCaller

from tradeloom.shared.contracts.orders import FlattenCompleted, FlattenLeft, FlattenOrder
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.testing.polling import eventually

D = Decimal


async def test_flatten_results_list_the_closes_and_the_dust_once_for_the_owner(risk: RiskCaller) -> None:
    await risk.fill("acc-f", "ff1", "buy", "100", "2")  # the account becomes known as alice's

    async def known() -> bool:
        return bool((await risk("positions_list", {"account_id": "acc-f"}))["items"])

    await eventually(known)
    event = FlattenCompleted(
        user_id="alice",
        account_id="acc-f",
        flatten_id="0190f0a0-0000-7000-8000-0000000000f1",
        reason="emergency stop: runaway",
        outcome="partial",
        orders=[
            FlattenOrder(
                symbol="BTC/USDT",
                order_id="o-1",
                client_order_id="flat-1",
                side="sell",
                status="filled",
                quantity=D(2),
                filled_quantity=D(2),
            ),
        ],
        left=[FlattenLeft(symbol="ETH/USDT", quantity=D("0.06"), reason="below_min_notional")],
    )
    publisher = EventPublisher(risk.nc.jetstream(), risk.subjects, "tradeloom/order-router")
    for _ in range(2):  # a second envelope of the same flatten (a replay) is kept once
        await publisher.publish(event, "acc-f", event_id=str(uuid.uuid4()))

    async def listed() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = (await risk("flattens_list", {"account_id": "acc-f"}))["items"]
        return items or None

    items = await eventually(listed)
    assert len(items) == 1
    item = items[0]
    assert (item["flatten_id"], item["outcome"], item["reason"]) == (
        event.flatten_id, "partial", "emergency stop: runaway"
    )  # fmt: skip
    assert item["left"] == [{"symbol": "ETH/USDT", "quantity": "0.06", "reason": "below_min_notional"}]
    assert [(o["symbol"], o["status"], o["filled_quantity"]) for o in item["orders"]] == [
        ("BTC/USDT", "filled", "2")
    ]
    assert (await risk.as_user("bob").error("flattens_list", {"account_id": "acc-f"})).code == "not_found"
