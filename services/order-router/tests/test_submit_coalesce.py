"""``SubmitCoalescer``: a user's orders that arrive while that user's submission is in flight go
together; each caller gets its own answer; a trickle is never grouped or delayed.

Unit tests with stand-ins for order-router's own two submit paths; the service test at the end
runs the real router over NATS and Postgres."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, cast

from or_harness import Caller, Neighbours
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import balances, open_account
from test_submit_batch import limit_buy, stored

from tradeloom.order_router.orders_batch import BatchSubmitter
from tradeloom.order_router.orders_coalesce import SubmitCoalescer
from tradeloom.order_router.orders_submit import OrderSubmitter
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.orders import OrderSubmit
from tradeloom.shared.errors import Conflict, ServiceError, Unavailable

ALICE = CallerContext(user_id="alice")
BOB = CallerContext(user_id="bob")


def order(client_id: str) -> OrderSubmit:
    return OrderSubmit.model_validate(
        {"account_id": "0195f7a0-0000-7000-8000-000000000001", "client_order_id": client_id,
         "symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "1"}
    )  # fmt: skip


class Paths:
    """The single and batch paths: each answers an order with its client id, or refuses ``bad-*``;
    ``gate`` holds every submission until released."""

    def __init__(self) -> None:
        self.singles: list[str] = []
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.batch_error: Exception | None = None

    def outcome(self, body: OrderSubmit) -> Any:
        if body.client_order_id and body.client_order_id.startswith("bad"):
            return Conflict(f"refused {body.client_order_id}")
        return f"order {body.client_order_id}"

    async def submit(self, caller: CallerContext, body: OrderSubmit) -> Any:
        self.singles.append(f"{caller.user_id}:{body.client_order_id}")
        await self.gate.wait()
        answer = self.outcome(body)
        if isinstance(answer, ServiceError):
            raise answer
        return answer

    async def submit_each(self, caller: CallerContext, orders: list[OrderSubmit]) -> list[Any]:
        self.batches.append([f"{caller.user_id}:{o.client_order_id}" for o in orders])
        await self.gate.wait()
        if self.batch_error is not None:
            raise self.batch_error
        return [self.outcome(o) for o in orders]


def coalescer(paths: Paths, max_batch: int = 100) -> SubmitCoalescer:
    return SubmitCoalescer(cast(OrderSubmitter, paths), cast(BatchSubmitter, paths), max_batch=max_batch)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_trickle_goes_alone_on_the_single_path() -> None:
    paths = Paths()
    submit = coalescer(paths).submit
    answers = [await submit(ALICE, order(f"o-{n}")) for n in range(3)]
    assert answers == ["order o-0", "order o-1", "order o-2"]
    assert paths.singles == ["alice:o-0", "alice:o-1", "alice:o-2"] and paths.batches == []


async def test_orders_arriving_during_a_submission_go_together_each_with_its_own_answer() -> None:
    paths = Paths()
    submit = coalescer(paths).submit
    paths.gate.clear()
    first = asyncio.create_task(submit(ALICE, order("o-0")))
    await settle()
    rest = [asyncio.create_task(submit(ALICE, order(cid))) for cid in ("o-1", "bad-2", "o-3")]
    await settle()
    assert paths.batches == []  # waiting for the submission in flight
    paths.gate.set()
    assert await first == "order o-0"
    results = await asyncio.gather(*rest, return_exceptions=True)
    assert results[0] == "order o-1" and results[2] == "order o-3"
    assert isinstance(results[1], Conflict) and "bad-2" in str(results[1])  # only its own caller
    assert paths.singles == ["alice:o-0"] and paths.batches == [["alice:o-1", "alice:bad-2", "alice:o-3"]]


async def test_groups_are_at_most_max_batch_and_a_lone_remainder_takes_the_single_path() -> None:
    paths = Paths()
    submit = coalescer(paths, max_batch=3).submit
    paths.gate.clear()
    first = asyncio.create_task(submit(ALICE, order("o-0")))
    await settle()
    rest = [asyncio.create_task(submit(ALICE, order(f"o-{n}"))) for n in range(1, 8)]
    await settle()
    paths.gate.set()
    assert [await first, *await asyncio.gather(*rest)] == [f"order o-{n}" for n in range(8)]
    assert paths.batches == [["alice:o-1", "alice:o-2", "alice:o-3"], ["alice:o-4", "alice:o-5", "alice:o-6"]]
    assert paths.singles == ["alice:o-0", "alice:o-7"]


async def test_different_users_are_never_grouped_and_run_side_by_side() -> None:
    paths = Paths()
    submit = coalescer(paths).submit
    paths.gate.clear()
    tasks = [asyncio.create_task(submit(caller, order("o"))) for caller in (ALICE, BOB)]
    await settle()
    assert paths.singles == ["alice:o", "bob:o"]  # both in flight at once
    paths.gate.set()
    assert await asyncio.gather(*tasks) == ["order o", "order o"]
    assert paths.batches == []


async def test_a_group_that_cannot_be_submitted_fails_each_caller_and_the_lane_goes_on() -> None:
    paths = Paths()
    submit = coalescer(paths).submit
    paths.gate.clear()
    paths.batch_error = Unavailable("the order database is not reachable; retry")
    first = asyncio.create_task(submit(ALICE, order("o-0")))
    await settle()
    rest = [asyncio.create_task(submit(ALICE, order(cid))) for cid in ("o-1", "o-2")]
    await settle()
    paths.gate.set()
    assert await first == "order o-0"
    results = await asyncio.gather(*rest, return_exceptions=True)
    assert all(isinstance(r, Unavailable) for r in results)  # each caller retries its own order
    paths.batch_error = None
    assert await submit(ALICE, order("o-1")) == "order o-1"  # the lane was closed and reopens


async def test_a_caller_that_gives_up_does_not_stop_the_others() -> None:
    paths = Paths()
    submit = coalescer(paths).submit
    paths.gate.clear()
    first = asyncio.create_task(submit(ALICE, order("o-0")))
    await settle()
    impatient = asyncio.create_task(submit(ALICE, order("o-1")))
    patient = asyncio.create_task(submit(ALICE, order("o-2")))
    await settle()
    impatient.cancel()
    await settle()
    paths.gate.set()
    assert await first == "order o-0" and await patient == "order o-2"
    assert paths.batches == [["alice:o-1", "alice:o-2"]]  # submitted anyway: a retry finds it


async def test_the_router_groups_a_burst_of_one_users_orders_and_stores_each_once(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice)
    bodies = [limit_buy(account_id, f"c-{n:02}", "1") for n in range(16)]
    bodies += [limit_buy(account_id, "c-03", "1"), limit_buy(account_id, "c-x", "1", symbol="NOPE/USDT")]
    results = await asyncio.gather(*(alice("orders_submit", body) for body in bodies), return_exceptions=True)
    orders, repeat, unlisted = results[:16], results[16], results[17]
    assert all(isinstance(o, dict) and o["status"] == "new" for o in orders)
    assert isinstance(repeat, dict) and repeat["order_id"] == cast(dict[str, Any], orders[3])["order_id"]
    assert isinstance(unlisted, ServiceError) and unlisted.code == "validation_error"
    assert "symbol" in str(unlisted)  # its own refusal, naming the field
    rows = await stored(db_engine, or_schema)
    assert [cid for cid, _, _ in rows] == [f"c-{n:02}" for n in range(16)]  # each once
    assert neighbours.risk_batches, "the burst was not grouped"
    assert {check.client_order_id for check in neighbours.risk_seen} == {cid for cid, _, _ in rows}
    free, locked = (await balances(alice, account_id))["USDT"]
    assert locked == sum(lock for _, _, lock in rows) and free + locked == Decimal(10_000)
