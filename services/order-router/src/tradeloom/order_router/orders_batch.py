"""``orders_submit_batch``: several orders of one caller at once (issue 13: a candle's bot orders).

Each order runs the rules of ``orders_submit`` (``OrderSubmitter.prepare`` / ``store`` /
``accept``), but the batch shares the work: the orders' account views in one statement
(``SubmitReads.views``, answered to ``prepare`` from memory), their ``pending_new`` rows, funds
locks and events in one transaction (the events in one insert), their risk checks in one request
(``RiskGate.check_many``: one verdict per order, failing closed per order), their acceptances
(``new`` | ``rejected``, placement) in one transaction: the orders locked and read in one
statement, those a paper account simply places moved to ``new`` in one update and one insert of
their events, the others accepted each as ``orders_submit`` accepts it. One result per order, in
the order asked: the order, or that order's error.

Exactly-once as for one order: every order is found again by its ``client_order_id`` or
``idempotency_key`` (unique per account), so a retried batch (a time-out, order-router restarted
mid-batch) answers the orders stored the first time; those still ``pending_new`` are checked and
accepted then. A refused order leaves nothing in the shared transaction (``store`` undoes its own
insert); an unexpected database error there rolls the whole transaction back, and the batch's
orders are then submitted one by one, so one bad order never fails the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.order_router.domain import states
from tradeloom.order_router.ledger import Announcement
from tradeloom.order_router.orders_submit import OrderSubmitter
from tradeloom.order_router.risk_gate import RiskVerdict
from tradeloom.order_router.store.rows import order_info
from tradeloom.order_router.store.submit_reads import SubmitView, ViewKey, autocommit
from tradeloom.order_router.submit_values import Prepared, client_id_for, places_plainly, risk_request
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.orders import OrderInfo, OrderSubmit
from tradeloom.shared.contracts.orders_batch import OrderBatchResult, OrderSubmitBatch, OrderSubmitBatchReply
from tradeloom.shared.contracts.system import ErrorBody
from tradeloom.shared.db import connection_lost
from tradeloom.shared.errors import ServiceError, Unavailable
from tradeloom.shared.ids import parse_uuid

log = logging.getLogger(__name__)
Outcome = OrderInfo | ServiceError


@dataclass(frozen=True)
class Stored:
    index: int
    row: Row[Any]
    account: Row[Any]


class BatchSubmitter:
    def __init__(self, submitter: OrderSubmitter, engine: Callable[[], AsyncEngine]) -> None:
        self.one = submitter
        self._engine = engine

    async def submit_batch(self, caller: CallerContext, body: OrderSubmitBatch) -> OrderSubmitBatchReply:
        outcomes: dict[int, Outcome] = {}
        try:
            await self._run(caller, body.orders, outcomes)
        except (OSError, Unavailable):
            raise  # the database or NATS away: the caller retries the batch
        for outcome in outcomes.values():
            if isinstance(outcome, ServiceError):
                self.one.metrics.refused(outcome.code, outcome.details.get("reason"))
            else:
                self.one.metrics.submitted(outcome.status, outcome.reject_reason)
        return OrderSubmitBatchReply(results=[result_of(outcomes[i]) for i in range(len(body.orders))])

    async def _run(
        self, caller: CallerContext, orders: list[OrderSubmit], outcomes: dict[int, Outcome]
    ) -> None:
        prepared: list[tuple[int, Prepared]] = []
        earlier: list[tuple[int, Row[Any]]] = []  # stored by an earlier submission (a retry)
        reads = self.one.ledger.submit_reads
        with reads.prefetched(await self._views(caller, orders)):  # one statement, not one an order
            for index, order in enumerate(orders):
                try:
                    ready = await self.one.prepare(caller, order)
                except ServiceError as error:
                    outcomes[index] = error
                    continue
                if isinstance(ready, Prepared):
                    prepared.append((index, ready))
                else:
                    earlier.append((index, ready))
        stored = await self._store(caller, prepared, outcomes)
        await self._check_and_accept(caller, stored, outcomes)
        for index, row in earlier:  # a retried batch: answered as orders_submit answers a retry
            outcomes[index] = await self._one(self.one.resume(caller, row))

    async def _views(
        self, caller: CallerContext, orders: list[OrderSubmit]
    ) -> dict[ViewKey, SubmitView | None]:
        """The account views of the orders that name their client id or idempotency key (the rest,
        given a fresh client id by ``prepare``, read theirs there), in one statement."""
        wanted = []
        for order in orders:
            account = parse_uuid(order.account_id)
            if account is not None and (order.client_order_id or order.idempotency_key):
                wanted.append((account, client_id_for(order), order.idempotency_key, order.symbol))
        if not wanted or caller.user_id is None:
            return {}
        async with autocommit(self._engine()) as conn:
            return await self.one.ledger.submit_reads.views(conn, caller.user_id, wanted)

    async def _store(
        self, caller: CallerContext, prepared: list[tuple[int, Prepared]], outcomes: dict[int, Outcome]
    ) -> list[Stored]:
        """Every prepared order's ``pending_new`` row in one transaction (refusals per order)."""
        stored: list[Stored] = []
        first: list[tuple[int, Prepared]] = []  # a concurrent submission stored it first
        refusals: dict[int, ServiceError] = {}
        try:
            async with self._engine().begin() as conn:
                announced: list[Announcement] = []  # the pending_new events, written together
                for index, p in prepared:
                    try:
                        row = await self.one.store(conn, p, announced)
                    except ServiceError as error:
                        refusals[index] = error
                        continue
                    if row is None:
                        first.append((index, p))
                    else:
                        stored.append(Stored(index, row, p.account))
                await self.one.ledger.outbox.add_many(conn, announced)
        except (OSError, Unavailable):
            raise
        except Exception as error:  # one order's database error: each on its own
            log.warning("batch of %d orders not stored together (%r): one by one", len(prepared), error)
            for index, p in prepared:
                outcomes[index] = await self._one(self.one.submit_prepared(caller, p))
            return []
        outcomes.update(refusals)
        for index, p in first:
            outcomes[index] = await self._one(self.one.resume_first(caller, p))
        return stored

    async def _check_and_accept(
        self, caller: CallerContext, stored: list[Stored], outcomes: dict[int, Outcome]
    ) -> None:
        """The stored orders' risk checks in one request, then their acceptances in one transaction."""
        if not stored:
            return
        verdicts = await self.one.risk.check_many(
            [risk_request(s.row) for s in stored],
            caller,
            fail_open=[s.account.risk_fail_open for s in stored],
        )
        extras = [
            await self.one.accept_extra(s.row, s.account, v) for s, v in zip(stored, verdicts, strict=True)
        ]
        try:
            async with self._engine().begin() as conn:
                done = await self._accept_all(conn, stored, verdicts, extras)
        except (OSError, Unavailable):
            raise
        except Exception as error:  # one order's database error: each on its own
            log.warning("batch of %d orders not accepted together (%r): one by one", len(stored), error)
            for s, verdict, extra in zip(stored, verdicts, extras, strict=True):
                outcomes[s.index] = await self._one(self._accept_one(s, verdict, extra))
            return
        for s, verdict, row in zip(stored, verdicts, done, strict=True):
            outcomes[s.index] = await self._one(self._after(s, verdict, row))

    async def _accept_all(
        self, conn: AsyncConnection, stored: list[Stored], verdicts: list[RiskVerdict],
        extras: list[dict[str, Any]],
    ) -> list[Row[Any]]:  # fmt: skip
        """``accept`` of every stored order in ``conn``'s transaction, the rows in ``stored``'s
        order. The orders locked and read in one statement; those a paper account simply places
        (still pending_new, not halted, approved without a bypass, nothing extra to store, not an
        option) moved to ``new`` in one update with one outbox insert; any other goes through
        ``accept_locked`` on its own, from the row read here (a halt, a refusal, a venue, a bypass
        audited, an option's fill)."""
        current = await self.one.ledger.submit_reads.for_accept_many(conn, [s.row.id for s in stored])
        done: dict[int, Row[Any]] = {}
        plain: list[int] = []
        for i, (s, verdict, extra) in enumerate(zip(stored, verdicts, extras, strict=True)):
            row, halted = current[s.row.id]
            if row.status == states.PENDING_NEW and places_plainly(row, s.account, verdict, extra, halted):
                plain.append(i)
            else:  # also one resolved meanwhile (a retry, the sweeper): answered as it is
                done[i] = await self.one.accept_locked(
                    conn, row, halted, account=s.account, verdict=verdict, extra=extra
                )
        placed = await self.one.ledger.move_live(
            conn, [current[stored[i].row.id][0] for i in plain], states.NEW, {"accepted_ns": time.time_ns()}
        )
        for i, row in zip(plain, placed, strict=True):
            await self.one.execution.place(conn, row)
            done[i] = row
        return [done[i] for i in range(len(stored))]

    async def _accept_one(self, s: Stored, verdict: RiskVerdict, extra: dict[str, Any]) -> OrderInfo:
        async with self._engine().begin() as conn:
            row = await self.one.accept(conn, s.row, s.account, verdict, extra)
        return await self._after(s, verdict, row)

    async def _after(self, s: Stored, verdict: RiskVerdict, row: Row[Any]) -> OrderInfo:
        return order_info(await self.one.after_accept(row, s.account, verdict))

    @staticmethod
    async def _one(step: Awaitable[OrderInfo]) -> Outcome:
        """One order's step; its service error, or a database error of its own, is its result
        (the others go on); a lost database connection fails the batch (the caller retries)."""
        try:
            return await step
        except ServiceError as error:
            return error
        except DBAPIError as error:
            if connection_lost(error):
                raise
            log.warning("an order of a batch failed: %r", error)
            return ServiceError("the order could not be stored")


def result_of(outcome: Outcome) -> OrderBatchResult:
    if isinstance(outcome, ServiceError):
        body = outcome.to_reply()["error"]
        return OrderBatchResult(
            error=ErrorBody(code=body["code"], message=body["message"], details=body["details"])
        )
    return OrderBatchResult(order=outcome)
