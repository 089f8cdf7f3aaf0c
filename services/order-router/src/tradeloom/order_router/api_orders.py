"""Order operations after submission: get, list, cancel, cancel-all, amend, statistics, fills.

Every order belongs to the caller; an unknown id and another user's id get the same not_found.
"""

from __future__ import annotations

import builtins
import uuid
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.order_router.api_accounts import no_account
from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import required_lock
from tradeloom.order_router.domain.validation import Problem, band_problems
from tradeloom.order_router.execution import Execution
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.price_bands import PriceBands
from tradeloom.order_router.store.rows import fill_info, order_info
from tradeloom.order_router.submit_values import account_costs, refused
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.orders import (
    CancelAllReply,
    CancelAllRequest,
    FillList,
    FillListRequest,
    OrderAmend,
    OrderDetail,
    OrderInfo,
    OrderList,
    OrderListRequest,
    OrderRef,
    OrderStats,
    OrderStatsRequest,
    OrderSubmit,
)
from tradeloom.shared.errors import Conflict, NotFound, field_invalid, require_user
from tradeloom.shared.ids import parse_uuid
from tradeloom.shared.paging import fetch_size, page_of, uuid_cursor

RATIO_QUANTUM = Decimal("1e-8")
AMENDABLE_PRICE = frozenset({"limit", "stop_limit", "take_profit_limit"})


def no_order(order_id: str) -> NotFound:
    return NotFound(f"no order {order_id}", details={"order_id": order_id})


def optional_uuid(value: str | None, field: str) -> uuid.UUID | None:
    """``None`` stays ``None``; anything else must be a UUID (else no row could match: 422)."""
    if value is None:
        return None
    key = parse_uuid(value)
    if key is None:
        raise field_invalid(field, "not an id of this service")
    return key


class OrdersApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        ledger: Ledger,
        execution: Execution,
        market_buffer: Decimal,
        price_bands: PriceBands,
    ) -> None:
        self._engine = engine
        self.ledger = ledger
        self.execution = execution
        self.market_buffer = market_buffer
        self.price_bands = price_bands

    async def _owned(
        self, conn: AsyncConnection, order_id: str, user_id: str, *, lock: bool = False
    ) -> Row[Any]:
        row = await self.ledger.orders.get(conn, order_id, user_id, for_update=lock)
        if row is None:
            raise no_order(order_id)
        return row

    async def get(self, caller: CallerContext, body: OrderRef) -> OrderDetail:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self._owned(conn, body.order_id, user_id)
            fills = await self.ledger.orders.fills(conn, user_id, order_id=row.id)
        return OrderDetail(order=order_info(row), fills=[fill_info(f) for f in reversed(fills)])

    async def list(self, caller: CallerContext, body: OrderListRequest) -> OrderList:
        user_id = require_user(caller)
        statuses: list[str] | None = list(body.status) if body.status is not None else None
        if body.open_only:
            statuses = [s for s in (statuses or sorted(states.OPEN)) if s in states.OPEN]
        filters = {
            "account": optional_uuid(body.account_id, "account_id"),
            "symbol": body.symbol,
            "statuses": statuses,
            "side": body.side,
            "type": body.type,
            "since": body.since,
            "until": body.until,
            "before": uuid_cursor(body.cursor),
        }
        async with self._engine().connect() as conn:
            rows = await self.ledger.orders.page(conn, user_id, filters, fetch_size(body.limit))
        items, next_cursor = page_of(rows, body.limit, order_info, lambda order: order.order_id)
        return OrderList(items=items, next_cursor=next_cursor)

    async def _cancel(self, conn: AsyncConnection, row: Row[Any], reason: str) -> Row[Any]:
        if await self.execution.cancel(conn, row):
            return await self.ledger.finish(conn, row, states.CANCELED, reason)
        return await self.ledger.move(conn, row, (states.PENDING_CANCEL,), {})

    async def cancel(self, caller: CallerContext, body: OrderRef) -> OrderInfo:
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            row = await self._owned(conn, body.order_id, user_id, lock=True)
            if row.status not in (states.NEW, states.PARTIALLY_FILLED):
                raise Conflict(f"order {body.order_id} is {row.status}", details={"status": row.status})
            return order_info(await self._cancel(conn, row, "canceled_by_user"))

    async def cancel_all(self, caller: CallerContext, body: CancelAllRequest) -> CancelAllReply:
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            account = await self.ledger.accounts.get(conn, body.account_id, user_id)
            if account is None:
                raise no_account(body.account_id)
            canceled = []
            for row in await self.ledger.orders.open_orders(conn, account_id=account.id, symbol=body.symbol):
                if row.status != states.PENDING_CANCEL:
                    await self._cancel(conn, row, "canceled_by_user")
                    canceled.append(str(row.id))
        return CancelAllReply(account_id=body.account_id, canceled=canceled)

    async def amend(self, caller: CallerContext, body: OrderAmend) -> OrderInfo:
        """New price, stop price and/or quantity; the lock is resized (more must be free)."""
        user_id = require_user(caller)
        band = None
        if body.price is not None:  # the instrument's band, asked before the transaction
            async with self._engine().connect() as conn:
                seen = await self._owned(conn, body.order_id, user_id)
            band = await self.price_bands.lookup(seen.venue, seen.symbol)
        async with self._engine().begin() as conn:
            row = await self._owned(conn, body.order_id, user_id, lock=True)
            if body.price is None and body.stop_price is None and body.quantity is None:
                raise field_invalid("price", "give price, stop_price or quantity to change")
            if row.status not in (states.NEW, states.PARTIALLY_FILLED):
                raise Conflict(f"order {body.order_id} is {row.status}", details={"status": row.status})
            problems = self._amend_problems(row, body)
            if problems:
                raise refused(problems)
            fields: dict[str, Any] = {
                k: v
                for k, v in body.model_dump(include={"price", "stop_price", "quantity"}).items()
                if v is not None
            }
            remaining = (body.quantity or row.quantity) - row.filled_quantity
            account = await self.ledger.accounts.get(conn, str(row.account_id), None)
            assert account is not None
            if account.kind == "exchange":
                raise Conflict(
                    "orders of an exchange account are not amended: cancel it and place a new one",
                    details={"reason": "amend_not_supported"},
                )
            shape = OrderSubmit(
                account_id=str(row.account_id), symbol=row.symbol, side=row.side, type=row.type,
                quantity=remaining, price=body.price or row.price,
                stop_price=body.stop_price or row.stop_price,
                trailing_amount=row.trailing_amount, trailing_percent=row.trailing_percent,
            )  # fmt: skip
            last = await self.ledger.orders.last_price(conn, row.venue, row.symbol)
            problems = band_problems(body.price, last, band)
            if problems:
                raise refused(problems)
            needed = required_lock(shape, last, account_costs(account), self.market_buffer)
            extra = needed - Decimal(row.locked)
            if extra > 0 and not await self.ledger.accounts.lock(conn, row.account_id, row.lock_asset, extra):
                raise refused(
                    [Problem("quantity", "insufficient_funds", f"not enough {row.lock_asset} is free")]
                )
            if extra < 0:
                await self.ledger.accounts.apply(
                    conn, row.account_id, row.lock_asset, free=-extra, locked=extra
                )
            fields["locked"] = needed
            updated = await self.ledger.orders.update(conn, row.id, fields)
            await self.ledger.announce(conn, updated, row.status, row.status)
            return order_info(updated)

    @staticmethod
    def _amend_problems(row: Row[Any], body: OrderAmend) -> builtins.list[Problem]:
        problems: builtins.list[Problem] = []
        lot = Decimal(row.lot_size)
        if body.price is not None and row.type not in AMENDABLE_PRICE:
            problems.append(Problem("price", "not_allowed", f"a {row.type} order has no limit price"))
        if body.stop_price is not None and row.stop_price is None:
            problems.append(Problem("stop_price", "not_allowed", f"a {row.type} order has no stop price"))
        if body.quantity is not None:
            if body.quantity <= row.filled_quantity:
                problems.append(
                    Problem("quantity", "below_filled", f"{row.filled_quantity} has already filled")
                )
            elif body.quantity % lot != 0:
                problems.append(Problem("quantity", "off_lot", f"not a multiple of the lot size {lot}"))
        return problems

    async def fills(self, caller: CallerContext, body: FillListRequest) -> FillList:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            rows = await self.ledger.orders.fills(
                conn,
                user_id,
                account_id=optional_uuid(body.account_id, "account_id"),
                order_id=optional_uuid(body.order_id, "order_id"),
                symbol=body.symbol,
                before=uuid_cursor(body.cursor),
                limit=fetch_size(body.limit),
            )
        items, next_cursor = page_of(rows, body.limit, fill_info, lambda fill: fill.fill_id)
        return FillList(items=items, next_cursor=next_cursor)

    async def stats(self, caller: CallerContext, body: OrderStatsRequest) -> OrderStats:
        user_id = require_user(caller)
        account = optional_uuid(body.account_id, "account_id")
        async with self._engine().connect() as conn:
            rows = await self.ledger.orders.stats_rows(conn, user_id, account, body.since, body.until)
        by_status: dict[str, int] = defaultdict(int)
        by_type: dict[str, int] = defaultdict(int)
        fees: dict[str, Decimal] = defaultdict(Decimal)
        ordered = filled = Decimal(0)
        slip_cost = slip_base = Decimal(0)
        for row in rows:
            by_status[row.status] += row.n
            by_type[row.type] += row.n
            fees[row.quote_asset] += Decimal(row.fees)
            ordered += Decimal(row.qty)
            filled += Decimal(row.filled)
            if row.ref_notional:  # buys paying more and sells receiving less are both against the trader
                sign = 1 if row.side == "buy" else -1
                slip_cost += sign * (Decimal(row.ref_filled) - Decimal(row.ref_notional))
                slip_base += Decimal(row.ref_notional)
        return OrderStats(
            orders=sum(by_status.values()),
            by_status=dict(by_status),
            by_type=dict(by_type),
            fill_ratio=(filled / ordered).quantize(RATIO_QUANTUM) if ordered else Decimal(0),
            average_slippage_bps=(slip_cost / slip_base * 10_000).quantize(RATIO_QUANTUM)
            if slip_base
            else None,
            fees=dict(fees),
        )
