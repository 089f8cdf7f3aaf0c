"""Submitting an order: validate → store pending_new (+ lock, + event) → risk check → new | rejected.

Idempotent per account: the order is found again by ``client_order_id`` or ``idempotency_key``
(database unique constraints, so also after a restart or a concurrent retry). A retry of an order
still ``pending_new`` (the first attempt was interrupted) runs the risk check again; a retry of
any other order answers it as it is now. The steps (``prepare``, ``store``, ``accept``) are shared
with ``orders_batch``, which runs those of several orders in one transaction each.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.order_router.api_accounts import no_account
from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.hedge import HEDGE, hedge_close
from tradeloom.order_router.domain.perps import PerpTerms
from tradeloom.order_router.domain.reduce_only import apply_reduce_only
from tradeloom.order_router.domain.validation import Problem, validate_order
from tradeloom.order_router.execution import Execution
from tradeloom.order_router.instruments import InstrumentDirectory
from tradeloom.order_router.ledger import Announcement, Ledger, announcement
from tradeloom.order_router.metrics import OrderMetrics
from tradeloom.order_router.option_orders import (
    OptionQuotes,
    fill_against_quote,
    held_as_itself,
    held_as_option,
    holding_problems,
    is_option,
    option_problems,
)
from tradeloom.order_router.perp_orders import (
    PerpSettingsSource,
    hedge_problems,
    perp_order_problems,
    perp_reduce_only,
)
from tradeloom.order_router.price_bands import PriceBands
from tradeloom.order_router.queue_position import QueuePosition
from tradeloom.order_router.risk_gate import RiskGate, RiskVerdict
from tradeloom.order_router.store.rows import order_info
from tradeloom.order_router.store.submit_reads import SubmitView, autocommit
from tradeloom.order_router.submit_values import (
    Prepared,
    account_costs,
    client_id_for,
    order_values,
    refused,
    risk_request,
)
from tradeloom.order_router.venue_orders import VenueOrders
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import Instrument
from tradeloom.shared.contracts.orders import OrderInfo, OrderSubmit
from tradeloom.shared.errors import Conflict, ServiceError, require_user
from tradeloom.shared.ids import parse_uuid


class OrderSubmitter:
    def __init__(
        self,
        *,
        engine: Callable[[], AsyncEngine],
        ledger: Ledger,
        instruments: InstrumentDirectory,
        risk: RiskGate,
        execution: Execution,
        market_buffer: Decimal,
        venue_orders: VenueOrders,
        price_bands: PriceBands,
        queue: QueuePosition | None = None,
        perps: PerpSettingsSource | None = None,
        metrics: OrderMetrics | None = None,
        options: OptionQuotes | None = None,
    ) -> None:
        self._engine = engine
        self.ledger = ledger
        self.instruments = instruments
        self.risk = risk
        self.execution = execution
        self.market_buffer = market_buffer
        self.venue_orders = venue_orders
        self.price_bands = price_bands
        self.queue = queue
        self.perps = perps
        self.metrics = metrics or OrderMetrics(None)
        self.options = options

    async def submit(self, caller: CallerContext, body: OrderSubmit) -> OrderInfo:
        """Submit one order, counted by its outcome (``tl_orders_submitted``)."""
        try:
            info = await self._submit(caller, body)
        except ServiceError as error:
            self.metrics.refused(error.code, error.details.get("reason"))
            raise
        self.metrics.submitted(info.status, info.reject_reason)
        return info

    async def _submit(self, caller: CallerContext, body: OrderSubmit) -> OrderInfo:
        prepared = await self.prepare(caller, body)
        if not isinstance(prepared, Prepared):  # stored by an earlier submission: answer that one
            return await self.resume(caller, prepared)
        return await self.submit_prepared(caller, prepared)

    async def submit_prepared(self, caller: CallerContext, prepared: Prepared) -> OrderInfo:
        """A prepared order stored in its own transaction, checked and accepted (not counted)."""
        async with self._engine().begin() as conn:
            row = await self.store(conn, prepared)
        if row is None:  # a concurrent retry inserted it first (nothing was written): answer that one
            return await self.resume_first(caller, prepared)
        return await self._check_and_accept(caller, row, prepared.account)

    async def prepare(self, caller: CallerContext, body: OrderSubmit) -> Prepared | Row[Any]:
        """Everything before the order's transaction: the caller's account (with its halt, price
        and balances), the instrument, a perpetual's terms, an option's quote; or the order an
        earlier submission stored (its row). Raises the order's refusal."""
        user_id = require_user(caller)
        client_order_id = client_id_for(body)
        view, existing = await self._view(body, user_id, client_order_id)
        if existing is not None:
            return existing
        account = view.account
        if account.status != "active":
            raise Conflict(f"account {body.account_id} is archived", details={"reason": "account_archived"})
        instrument = await self.instruments.get(account.venue, body.symbol)
        venue_option = is_option(instrument) and account.kind == "exchange"
        if account.kind == "exchange":
            perpetual = instrument is not None and instrument.kind == "perpetual"
            self.venue_orders.admit(account, body, perpetual=perpetual, option=venue_option)
            await self.venue_orders.admit_bracket(account, body)
        perp = await self._perp_terms(caller, account, body, instrument)
        paper_option = is_option(instrument) and account.kind == "paper" and self.options is not None
        instrument, option_quote = await self._option_quote(
            caller, body, instrument, paper_option, venue_option
        )
        if view.halted is not None:  # read again under the order's lock before it is accepted
            raise Conflict(f"trading is halted ({view.halted})", details={"reason": "trading_halted"})
        return Prepared(
            body, user_id, client_order_id, view, instrument, perp, paper_option, venue_option, option_quote
        )

    async def store(
        self, conn: AsyncConnection, p: Prepared, announced: list[Announcement] | None = None
    ) -> Row[Any] | None:
        """The order's rules, then its ``pending_new`` row, funds lock and event in ``conn``'s
        transaction (``None``: a concurrent submission stored it first, nothing written). A refusal
        raises and leaves nothing of this order in the transaction (several orders may share it).
        ``announced``: the event is added there, for the caller to write with others', not written."""
        account, body, instrument = p.account, p.body, p.instrument
        symbol = instrument.symbol if instrument is not None else body.symbol
        last_price = p.option_quote if p.paper_option else p.view.last_price
        if not p.paper_option and symbol != body.symbol:  # the view read the symbol as submitted
            last_price = await self.ledger.orders.last_price(conn, account.venue, symbol)
        free = p.view.free  # the lock below checks the free amount itself
        perp, closing = await self._perp_position(conn, account.id, symbol, body, p.perp)
        body, problems = self._reduce_only(body, instrument, free=free, perp=perp, closing=closing)
        problems += self._option_rules(
            body, instrument, free, p.option_quote, paper_option=p.paper_option, venue_option=p.venue_option
        )
        if problems:
            raise refused(problems)
        problems, lock = validate_order(
            body,
            instrument,
            last_price=last_price,
            free=free,
            costs=account_costs(account),
            market_buffer=self.market_buffer,
            now=datetime.now(UTC),
            price_band=self.price_bands.of(account.venue, instrument),
            perp=perp,
        )
        if problems or instrument is None:
            raise refused(problems)
        lock_asset = instrument.quote if body.side == "buy" else instrument.base
        if perp is not None:
            lock_asset = perp.settle
        values = order_values(
            replace(p, body=body),
            instrument,
            last_price=last_price,
            lock=lock,
            lock_asset=lock_asset,
            perp=perp,
        )
        row, lock_taken = await self.ledger.submit_reads.insert_locked(conn, values)
        if row is None:
            return None
        if not lock_taken:  # undone here, not by a rollback: other orders may share the transaction
            await self.ledger.submit_reads.drop(conn, row.id)
            raise refused([Problem("quantity", "insufficient_funds", f"not enough {lock_asset} is free")])
        if announced is None:
            await self.ledger.announce(conn, row, None, states.PENDING_NEW)
        else:
            announced.append(announcement(row, None, states.PENDING_NEW))
        return row

    async def resume_first(self, caller: CallerContext, p: Prepared) -> OrderInfo:
        """The order a concurrent submission of the same client id or key stored first, answered."""
        async with autocommit(self._engine()) as conn:
            existing = await self.ledger.orders.find_existing(
                conn, p.account.id, p.client_order_id, p.body.idempotency_key
            )
        assert existing is not None
        return await self.resume(caller, existing)

    async def _view(
        self, body: OrderSubmit, user_id: str, client_order_id: str
    ) -> tuple[SubmitView, Row[Any] | None]:
        """The caller's account with its halt, last price and balances (``store.submit_reads``: one
        statement), and the order an earlier submission stored, if any."""
        account = parse_uuid(body.account_id)
        async with autocommit(self._engine()) as conn:
            reads, idem = self.ledger.submit_reads, body.idempotency_key
            view = account and await reads.view(
                conn, account, user_id, cid=client_order_id, key=idem, symbol=body.symbol
            )
            if not view:
                raise no_account(body.account_id)
            existing = view.existing and await self.ledger.orders.find_existing(
                conn, view.account.id, client_order_id, idem
            )
        return view, existing or None

    async def _perp_terms(
        self, caller: CallerContext, account: Row[Any], body: OrderSubmit, instrument: Instrument | None
    ) -> PerpTerms | None:
        """The terms of an order on a perpetual (``None``: not a perp, or perps are not wired)."""
        if instrument is None or instrument.kind != "perpetual" or self.perps is None:
            return None
        problems = perp_order_problems(account.kind, body)
        if problems:
            raise refused(problems)
        terms = await self.perps.terms(caller, body.account_id, instrument)
        venue_hedge = (
            account.kind == "exchange" and terms.position_mode == HEDGE
            and await self.venue_orders.supports_hedge(account)
        )  # fmt: skip
        problems = hedge_problems(account.kind, terms, body, venue_hedge=venue_hedge)
        if problems:
            raise refused(problems)
        return terms

    async def _perp_position(
        self,
        conn: AsyncConnection,
        account_id: uuid.UUID,
        symbol: str,
        body: OrderSubmit,
        perp: PerpTerms | None,
    ) -> tuple[PerpTerms | None, Decimal]:
        """The terms with the position the order names (its side's in hedge mode), and what the
        account's other open orders already close of it (hedge mode only; else 0)."""
        if perp is None:
            return None, Decimal(0)
        side = body.position_side or ""
        position = await self.ledger.perp_positions.get(conn, account_id, symbol, position_side=side)
        closing = Decimal(0)
        if side:
            closing = await self.ledger.orders.closing_open(conn, account_id, symbol, side, body.side)
        return replace(perp, position=position), closing

    @staticmethod
    def _reduce_only(
        body: OrderSubmit,
        instrument: Instrument | None,
        *,
        free: dict[str, Decimal],
        perp: PerpTerms | None,
        closing: Decimal,
    ) -> tuple[OrderSubmit, list[Problem]]:
        """Reduce-only against the perp position (hedge mode: every closing order against its
        named side, less ``closing``, what other open orders already close), or the spot holding."""
        if perp is not None and body.position_side is not None:
            return hedge_close(body, perp.position, closing)
        if perp is not None:
            return perp_reduce_only(body, perp.position)
        return apply_reduce_only(body, instrument, free)

    @staticmethod
    def _option_rules(
        body: OrderSubmit,
        instrument: Instrument | None,
        free: dict[str, Decimal],
        quote: Decimal | None,
        *,
        paper_option: bool,
        venue_option: bool,
    ) -> list[Problem]:
        """Option rules: paper ones need the side's quote; both refuse shorts (``option_orders``)."""
        if instrument is None or not (paper_option or venue_option):
            return []
        if paper_option:
            return option_problems(body, instrument, free, quote)
        return holding_problems(body, instrument, free)

    async def _option_quote(
        self,
        caller: CallerContext,
        body: OrderSubmit,
        instrument: Instrument | None,
        paper_option: bool,
        venue_option: bool,
    ) -> tuple[Instrument | None, Decimal | None]:
        """A paper option order: the option held as itself and its side's quote (``option_orders``).
        A venue option order: held as itself too, no quote (the venue's book prices it)."""
        if venue_option and instrument is not None:
            return held_as_itself(instrument), None
        if not paper_option or instrument is None or self.options is None:
            return instrument, None
        held = held_as_itself(instrument)
        return held, await self.options.side_price(held, body.side, caller)

    async def resume(self, caller: CallerContext, row: Row[Any]) -> OrderInfo:
        if row.status != states.PENDING_NEW:
            return order_info(row)
        async with autocommit(self._engine()) as conn:
            account = await self.ledger.accounts.get(conn, str(row.account_id), None)
        assert account is not None
        return await self._check_and_accept(caller, row, account)

    async def _check_and_accept(self, caller: CallerContext, row: Row[Any], account: Row[Any]) -> OrderInfo:
        verdict = await self.risk.check(risk_request(row), caller, fail_open=account.risk_fail_open)
        extra = await self.accept_extra(row, account, verdict)
        async with self._engine().begin() as conn:
            done = await self.accept(conn, row, account, verdict, extra)
        return order_info(await self.after_accept(done, account, verdict))

    async def accept_extra(self, row: Row[Any], account: Row[Any], verdict: RiskVerdict) -> dict[str, Any]:
        """What an approved paper order stores as it is accepted: the volume ahead of a resting limit."""
        to_venue = verdict.approved and account.kind == "exchange"
        resting = row.type == "limit" and row.time_in_force in ("gtc", "gtd")  # they wait their turn
        if verdict.approved and not to_venue and resting and account.queue_position and self.queue:
            ahead = await self.queue.volume_ahead(row.venue, row.symbol, row.side, Decimal(row.price))
            return {"queue_ahead": ahead}
        return {}

    async def accept(
        self,
        conn: AsyncConnection,
        row: Row[Any],
        account: Row[Any],
        verdict: RiskVerdict,
        extra: dict[str, Any],
    ) -> Row[Any]:
        """The risk verdict applied in ``conn``'s transaction: ``new`` (placed) or ``rejected``; an
        order to a venue stays ``pending_new`` (``after_accept`` sends it once this commits)."""
        current, halted = await self.ledger.submit_reads.for_accept(conn, row.id)
        assert current is not None
        return await self.accept_locked(conn, current, halted, account=account, verdict=verdict, extra=extra)

    async def accept_locked(
        self, conn: AsyncConnection, current: Row[Any], halted: str | None, *, account: Row[Any],
        verdict: RiskVerdict, extra: dict[str, Any],
    ) -> Row[Any]:  # fmt: skip
        """``accept`` of the order as read under its lock (``for_accept``) with its halt."""
        if current.status != states.PENDING_NEW:  # resolved meanwhile (a retry, the sweeper)
            return current
        if halted is not None:
            return await self.ledger.finish(conn, current, states.REJECTED, "trading_halted")
        if not verdict.approved:
            return await self.ledger.finish(conn, current, states.REJECTED, verdict.reason)
        if verdict.bypassed:
            await self.ledger.accounts.audit(
                conn, current.account_id, "order-router", "risk_check_bypassed", {"order_id": str(current.id)}
            )
        if account.kind == "exchange":  # stays pending_new until the venue answers (sent after this commit)
            return current
        done = await self.ledger.move(conn, current, (states.NEW,), {"accepted_ns": time.time_ns(), **extra})
        await self.execution.place(conn, done)
        if account.kind == "paper" and held_as_option(done):
            done = await fill_against_quote(self.ledger, conn, done, account_costs(account))
        return done

    async def after_accept(self, done: Row[Any], account: Row[Any], verdict: RiskVerdict) -> Row[Any]:
        """After the accepting commit: an approved venue order is sent to its venue."""
        if verdict.approved and account.kind == "exchange" and done.status == states.PENDING_NEW:
            return await self.venue_orders.send(done, account)
        return done
