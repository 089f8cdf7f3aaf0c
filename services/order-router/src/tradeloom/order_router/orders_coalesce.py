"""``orders_submit`` under load: one user's orders that arrive together are submitted together.

A single submission pays two transactions and a risk request of its own (``orders_submit``). When
a user sends orders faster than one submission takes (an algorithm, a burst of API orders), those
that arrive while the user's previous submission is in flight wait for it and then go together
through ``orders_batch``'s shared steps: their ``pending_new`` rows in one transaction, one
``check_batch`` request, their acceptances in one transaction. Each caller still gets its own
answer (its order, or its own refusal raised as before), so nothing changes on the wire.

There is no timer: an order that finds its user idle runs at once, alone, on the single path (the
same latency as before); only orders that would have queued behind it anyway are grouped, so a
trickle is never delayed and a burst costs a commit and a risk round trip per group instead of per
order. A user's groups run one after another (at most ``max_batch`` orders each); different users'
groups run side by side. Exactly-once is the single and batch paths' own (``client_order_id``
and ``idempotency_key`` unique per account): a caller that gives up waiting loses nothing, and its
retry finds the order.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from tradeloom.order_router.orders_batch import BatchSubmitter
from tradeloom.order_router.orders_submit import OrderSubmitter
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.orders import OrderInfo, OrderSubmit

log = logging.getLogger(__name__)
Lane = tuple[str | None, frozenset[str]]  # (user id, roles): only the same caller's orders group


@dataclass
class Waiting:
    caller: CallerContext
    body: OrderSubmit
    answer: asyncio.Future[OrderInfo] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def __post_init__(self) -> None:  # a caller that gave up never reads its answer: not an error
        self.answer.add_done_callback(lambda done: done.cancelled() or done.exception())


class SubmitCoalescer:
    def __init__(self, single: OrderSubmitter, batches: BatchSubmitter, *, max_batch: int = 100) -> None:
        self.single = single
        self.batches = batches
        self.max_batch = max_batch
        self._queues: dict[Lane, list[Waiting]] = {}
        self._drains: set[asyncio.Task[None]] = set()

    async def submit(self, caller: CallerContext, body: OrderSubmit) -> OrderInfo:
        lane: Lane = (caller.user_id, caller.roles)
        waiting = Waiting(caller, body)
        queue = self._queues.get(lane)
        if queue is not None:  # the user's submission in flight: join the next group
            queue.append(waiting)
            return await asyncio.shield(waiting.answer)
        self._queues[lane] = []
        try:
            return await self.single.submit(caller, body)
        finally:
            self._start_drain(lane)

    def _start_drain(self, lane: Lane) -> None:
        if not self._queues.get(lane):
            self._queues.pop(lane, None)
            return
        task = asyncio.create_task(self._drain(lane))  # the first caller need not wait for the rest
        self._drains.add(task)
        task.add_done_callback(self._drains.discard)

    async def _drain(self, lane: Lane) -> None:
        """Submit the lane's queued orders in groups until none are left, then close the lane."""
        try:
            while queue := self._queues.get(lane):
                group = queue[: self.max_batch]
                del queue[: self.max_batch]
                await self._submit_group(group)
        finally:
            queue = self._queues.pop(lane, [])
            for waiting in queue:  # only when cancelled (shutdown): never leave a caller hanging
                if not waiting.answer.done():
                    waiting.answer.set_exception(asyncio.CancelledError())

    async def _submit_group(self, group: list[Waiting]) -> None:
        try:
            if len(group) == 1:
                outcomes: list[OrderInfo | BaseException] = [
                    await self.single.submit(group[0].caller, group[0].body)
                ]
            else:
                outcomes = list(await self.batches.submit_each(group[0].caller, [w.body for w in group]))
        except Exception as error:  # the database or NATS away: every caller of the group retries
            outcomes = [error] * len(group)
        for waiting, outcome in zip(group, outcomes, strict=True):
            if waiting.answer.done():
                continue
            if isinstance(outcome, BaseException):
                waiting.answer.set_exception(outcome)
            else:
                waiting.answer.set_result(outcome)
