"""``OrderSender.send_batch`` without order-router: one batch per owner, each answer recorded on
its order; a batch refused whole goes order by order (same client ids); a batch not answered in
time is left to the resend loop; an order with exits to cancel first goes on its own."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradeloom.shared.contracts.orders import OrderInfo
from tradeloom.shared.errors import Timeout
from tradeloom.shared.rpc import RemoteError
from tradeloom.strategy_runner.bots.order_sender import OrderSender
from tradeloom.strategy_runner.bots.order_to_send import OrderToSend

EXAMPLE = (
    Path(__file__).resolve().parents[3] / "contracts/requests/order-router.orders_submit.reply.example.json"
)
INFO = OrderInfo.model_validate(json.loads(EXAMPLE.read_text()))


class Router:
    """Answers like order-router, or fails the batch op as told (``batch_error``)."""

    def __init__(self, batch_error: Exception | None = None) -> None:
        self.batch_error = batch_error
        self.calls: list[tuple[str, str | None, list[str]]] = []

    async def call(
        self, service: str, op: str, body: Any, reply: Any, *, caller: Any, timeout_s: float
    ) -> Any:
        if op == "orders_submit_batch":
            ids = [o.client_order_id for o in body.orders]
            self.calls.append((op, caller.user_id, ids))
            if self.batch_error is not None:
                raise self.batch_error
            results = [{"order": INFO.model_copy(update={"client_order_id": i}).model_dump()} for i in ids]
            results[-1] = {
                "error": {"code": "validation_error", "message": "quantity: too small", "details": {}}
            }
            return reply.model_validate({"results": results})
        self.calls.append((op, caller.user_id, [body.client_order_id]))
        return INFO.model_copy(update={"client_order_id": body.client_order_id})


def sender(router: Router) -> tuple[OrderSender, list[tuple[str, str]]]:
    recorded: list[tuple[str, str]] = []
    made = OrderSender(
        lambda: None,  # type: ignore[arg-type,return-value]  # no database: the answers are caught below
        lambda: router,  # type: ignore[arg-type,return-value]
        lambda: None,  # type: ignore[arg-type,return-value]
        bots=None, ledger=None, exits=None, timeout_s=1,  # type: ignore[arg-type]
    )  # fmt: skip

    async def answered(order: OrderToSend, info: OrderInfo) -> None:
        recorded.append((order.client_id, info.client_order_id))

    async def refused(order: OrderToSend, error: RemoteError) -> None:
        recorded.append((order.client_id, error.code))

    async def answered_many(pairs: list[tuple[OrderToSend, OrderInfo]]) -> None:  # a batch's, together
        for order, info in pairs:
            await answered(order, info)

    made._answered = answered  # type: ignore[method-assign]
    made._answered_many = answered_many  # type: ignore[method-assign]
    made._refused = refused  # type: ignore[method-assign]
    return made, recorded


def order(user: str, client_id: str) -> OrderToSend:
    return OrderToSend(user, "acc-" + user, "BTC/USDT", client_id, "buy", Decimal("0.1"))


ORDERS = [
    order("alice", "bot-a-1"),
    order("bob", "bot-b-1"),
    order("alice", "bot-a-2"),
    order("alice", "bot-a-3"),
]


async def test_one_batch_per_owner_and_each_result_recorded_on_its_order() -> None:
    router = Router()
    made, recorded = sender(router)
    await made.send_batch(ORDERS)
    assert sorted(router.calls) == [
        ("orders_submit", "bob", ["bot-b-1"]),  # alone: a batch of one is a plain submit
        ("orders_submit_batch", "alice", ["bot-a-1", "bot-a-2", "bot-a-3"]),
    ]
    assert sorted(recorded) == [
        ("bot-a-1", "bot-a-1"),
        ("bot-a-2", "bot-a-2"),
        ("bot-a-3", "validation_error"),
        ("bot-b-1", "bot-b-1"),
    ]


async def test_a_batch_refused_whole_goes_order_by_order_with_the_same_client_ids() -> None:
    router = Router(RemoteError("internal", "no such op"))
    made, recorded = sender(router)
    await made.send_batch([o for o in ORDERS if o.user_id == "alice"])
    singles = sorted(ids[0] for op, _, ids in router.calls if op == "orders_submit")
    assert singles == ["bot-a-1", "bot-a-2", "bot-a-3"]
    assert sorted(recorded) == [("bot-a-1", "bot-a-1"), ("bot-a-2", "bot-a-2"), ("bot-a-3", "bot-a-3")]


async def test_a_batch_not_answered_in_time_is_left_to_the_resend_loop() -> None:
    router = Router(Timeout("order-router did not answer"))
    made, recorded = sender(router)
    await made.send_batch([o for o in ORDERS if o.user_id == "alice"])
    assert [op for op, _, _ in router.calls] == ["orders_submit_batch"] and recorded == []
