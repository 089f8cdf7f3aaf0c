"""Acting on risk-monitor's ``risk.evt.flatten.v1.<account>``: close every position of the account.

Runs inside the halts consumer's transaction, together with its inbox claim, so the whole effect
happens once: the account's open paper orders are cancelled, then every position gets one market
close order (``domain.flatten_plan``): a spot long is sold, a spot short bought back, a perpetual
closed reduce-only (either side; in hedge mode the long and the short each by its own order), a
long option sold at the bid. Each is accepted at once (no risk check: the order comes from
risk-monitor, and goes through an account halt) and then fills like any order of the account: the paper
matcher fills spot and perp closes on the next trades, an option close fills at once at its quote
(``option_orders.fill_against_quote``). Each close order's client id derives from the flatten
event's id and the symbol, and the ``flattens`` row is keyed by the event id, so a redelivery or a
replay after a restart finds the flatten already acted on and cannot double a close. What cannot be
closed (dust under a lot or the minimum notional, no price, no funds) is stored on the flatten
(``left_open``). When the last close order ends, ``Ledger.complete_flatten`` announces
``orders.evt.flatten_completed`` with it.

Exchange accounts: the flatten is recorded here and carried out by venue_sync
(``venue_flatten.py``): cancels at the venue, then the same close orders, sent through ccxt,
priced by the venue (a perp's mark; an option is sold by a limit order at the venue's best bid).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.flatten_plan import Close, Holding, plan_close
from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.domain.perps import money
from tradeloom.order_router.flatten_holdings import Held, HoldingsReader, VenuePrice
from tradeloom.order_router.instruments import InstrumentDirectory
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.option_orders import OptionQuotes, fill_against_quote, held_as_option
from tradeloom.order_router.submit_values import account_costs
from tradeloom.shared.contracts.orders import FlattenLeft
from tradeloom.shared.contracts.risk import RiskFlatten
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.ids import new_event_id, parse_uuid

log = logging.getLogger(__name__)
ACTOR = "risk-monitor"


def close_client_id(flatten_id: str, symbol: str, position_side: str = "") -> str:
    """The close order's client id: the same flatten event, symbol (and, in hedge mode, position
    side) always give the same id."""
    event = hashlib.sha256(flatten_id.encode()).hexdigest()[:24]
    position = f"{symbol}#{position_side}" if position_side else symbol
    return f"flat-{event}-{hashlib.sha256(position.encode()).hexdigest()[:8]}"


class Flattener:
    def __init__(
        self,
        ledger: Ledger,
        *,
        market_buffer: Decimal = Decimal("0.05"),
        instruments: InstrumentDirectory | None = None,
        options: OptionQuotes | None = None,
    ) -> None:
        self.ledger = ledger
        self.market_buffer = market_buffer
        self.holdings = HoldingsReader(ledger, instruments, options)

    async def on_flatten(self, conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.unwrap(RiskFlatten)
        account = None
        if parse_uuid(event.account_id) is not None:
            account = await self.ledger.accounts.get(conn, event.account_id, event.user_id, for_update=True)
        if account is None:
            log.warning("flatten %s names no account of its user: ignored", envelope.id)
            return
        if not await self.ledger.flattens.start(conn, envelope.id, account.id, event.user_id, event.reason):
            return  # acted on already (a redelivery whose inbox row was pruned, or a replay)
        details = {"flatten_id": envelope.id, "reason": event.reason}
        await self.ledger.accounts.audit(conn, account.id, ACTOR, "flatten_started", details)
        if account.kind != "paper":
            return  # closed at the venue by venue_sync (``venue_flatten.VenueFlatten``)
        for row in await self.ledger.orders.open_orders(conn, account_id=account.id, paper_only=True):
            await self.ledger.finish(conn, row, states.CANCELED, "flatten")
        await self.place_closes(conn, account, envelope.id)

    async def place_closes(
        self, conn: AsyncConnection, account: Row[Any], flatten_id: str, venue_price: VenuePrice | None = None
    ) -> list[Row[Any]]:
        """One close order per position (the account has no open order left): accepted at once
        on a paper account, ``pending_new`` (to be sent) on an exchange account; a paper option
        close fills at the bid once every close is stored. What is left open is kept for the
        completion event. With nothing to close the flatten completes (``nothing_held``, or
        ``partial`` when something was left). ``venue_price``: an exchange account's prices
        from its venue (``flatten_holdings.VenuePrice``)."""
        costs = account_costs(account)
        free = {row.asset: Decimal(row.free) for row in await self.ledger.accounts.balances(conn, account.id)}
        placed: list[Row[Any]] = []
        left: list[FlattenLeft] = []
        for held in await self.holdings.read(conn, account, free, venue_price):
            plan = plan_close(held.holding)
            if plan is None:
                continue
            if plan.left > 0 and plan.reason is not None:
                left.append(FlattenLeft(symbol=plan.symbol, quantity=plan.left, reason=plan.reason))
            if plan.close is None:
                continue
            row = await self._close(conn, account, flatten_id, held, close=plan.close, costs=costs, free=free)
            if row is None:
                left.append(
                    FlattenLeft(symbol=plan.symbol, quantity=plan.close.quantity, reason="insufficient_funds")
                )
            else:
                placed.append(row)
        await self.ledger.flattens.set_left(conn, flatten_id, [item.model_dump(mode="json") for item in left])
        if not placed:
            await self.ledger.complete_flatten(conn, flatten_id, "nothing_held", [])
        for row in placed:
            if account.kind == "paper" and held_as_option(row):  # at the bid
                await fill_against_quote(self.ledger, conn, row, costs)
        return placed

    async def _close(
        self,
        conn: AsyncConnection,
        account: Row[Any],
        flatten_id: str,
        held: Held,
        *,
        close: Close,
        costs: AccountCosts,
        free: dict[str, Decimal],
    ) -> Row[Any] | None:
        """One market order (a venue option: a limit at the venue's bid) closing ``held``, its
        funds locked (``None``: they are not free); a paper one accepted (``new``) at once. A spot
        sell is reduce-only on paper only (a spot venue has no reduce-only orders: there it is a
        plain sell)."""
        h, row = held.holding, held.row
        lock_asset, lock = close_lock(h, close, costs, self.market_buffer, row)
        if h.kind == "perp":
            lock = min(lock, max(free.get(lock_asset, Decimal(0)), Decimal(0)))  # closing needs no margin
        if lock > free.get(lock_asset, Decimal(0)):
            return None
        free[lock_asset] = free.get(lock_asset, Decimal(0)) - lock
        values: dict[str, Any] = {
            "id": uuid.UUID(new_event_id()),
            "account_id": account.id,
            "user_id": account.user_id,
            "client_order_id": close_client_id(flatten_id, h.symbol, getattr(row, "position_side", "")),
            "venue": row.venue,
            "symbol": h.symbol,
            "base_asset": row.base_asset,
            "quote_asset": row.quote_asset,
            "lot_size": row.lot_size,
            "side": close.side,
            "type": "market",
            "status": states.PENDING_NEW,
            "quantity": close.quantity,
            "time_in_force": "gtc",
            "reduce_only": close.reduce_only and (h.kind != "spot" or account.kind == "paper"),
            "reference_price": h.price,
            "lock_asset": lock_asset,
            "locked": lock,
            "accepted_ns": time.time_ns(),
            "flatten_id": flatten_id,
        }
        if h.kind == "option" and account.kind != "paper":
            # venue options take limit orders only: a sell at the venue's best bid, immediate or
            # cancel (a bid gone meanwhile leaves no resting close behind: the flatten ends partial)
            values |= {"type": "limit", "price": h.price, "time_in_force": "ioc"}
        if h.kind == "perp":
            values |= {
                "contract_size": h.contract_size,
                "leverage": row.leverage,
                "position_side": row.position_side or None,  # hedge mode: closes that side only
            }
        order = await self.ledger.orders.insert(conn, values)
        assert order is not None, "a flatten's close ids are new while its flattens row is"
        locked = await self.ledger.accounts.lock(conn, account.id, lock_asset, lock)
        assert locked, "the lock was taken from the free balance read in this transaction"
        await self.ledger.announce(conn, order, None, states.PENDING_NEW)
        if account.kind != "paper":
            return order
        return await self.ledger.move(conn, order, (states.NEW,), {})


def close_lock(
    holding: Holding, close: Close, costs: AccountCosts, buffer: Decimal, assets: Any
) -> tuple[str, Decimal]:
    """The asset and amount a close order locks: a sell of spot or options locks what it sells;
    a spot buy back the quote at the buffered last price after slippage, plus the taker fee; a
    perp close only its worst fee in the settle asset (closing frees margin, like ``PerpTerms``).
    ``assets``: the position's row (``base_asset``, ``quote_asset``; perps: ``settle_asset``)."""
    if holding.kind != "perp" and close.side == "sell":
        return assets.base_asset, close.quantity
    assert holding.price is not None, "a buy back and a perp close are planned with a price only"
    worst = costs.worst_price(holding.price * (1 + buffer), "buy")
    if holding.kind == "perp":
        rate = max(costs.maker_rate, costs.taker_rate)
        return assets.settle_asset, money(close.quantity * worst * holding.contract_size * rate)
    return assets.quote_asset, money(close.quantity * worst * (1 + costs.taker_rate))
