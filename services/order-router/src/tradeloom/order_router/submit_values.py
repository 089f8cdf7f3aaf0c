"""What the submit path computes from an order: its client id, the row it stores, its risk check,
whether its acceptance is a plain placement (``places_plainly``).

``Prepared``: an order ready for its transaction (``OrderSubmitter.prepare``: the caller's account
view, the instrument, a perpetual's terms, an option's quote), so that one order's transaction and
several orders' shared one (``orders_batch``) run the same rules.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.domain.perps import PerpTerms
from tradeloom.order_router.domain.validation import Problem
from tradeloom.order_router.option_orders import held_as_option
from tradeloom.order_router.risk_gate import RiskVerdict
from tradeloom.order_router.store.submit_reads import SubmitView
from tradeloom.shared.contracts.market_data import Instrument
from tradeloom.shared.contracts.orders import OrderSubmit
from tradeloom.shared.contracts.risk import RiskCheckRequest
from tradeloom.shared.errors import ValidationFailed
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.telemetry import inject_trace


@dataclass(frozen=True)
class Prepared:
    body: OrderSubmit
    user_id: str
    client_order_id: str
    view: SubmitView
    instrument: Instrument | None
    perp: PerpTerms | None
    paper_option: bool
    venue_option: bool
    option_quote: Decimal | None

    @property
    def account(self) -> Row[Any]:
        return self.view.account


def refused(problems: list[Problem]) -> ValidationFailed:
    first = problems[0]
    return ValidationFailed(
        f"{first.field}: {first.message}", details={"fields": [p.as_detail() for p in problems]}
    )


def client_id_for(body: OrderSubmit) -> str:
    """The client id given, or one derived from the idempotency key, or a fresh one."""
    if body.client_order_id is not None:
        return body.client_order_id
    if body.idempotency_key is not None:
        return "idem-" + hashlib.sha256(body.idempotency_key.encode()).hexdigest()[:40]
    return "tl-" + uuid.UUID(new_event_id()).hex


def account_costs(account: Row[Any]) -> AccountCosts:
    return AccountCosts(
        maker_rate=Decimal(account.maker_fee_rate),
        taker_rate=Decimal(account.taker_fee_rate),
        slippage_model=account.slippage_model,
        slippage=Decimal(account.slippage),
    )


def order_values(
    p: Prepared,
    instrument: Instrument,
    *,
    last_price: Decimal | None,
    lock: Decimal,
    lock_asset: str,
    perp: PerpTerms | None,
) -> dict[str, Any]:
    """The ``pending_new`` row of a prepared order (``p.body`` after its reduce-only rule)."""
    body, account = p.body, p.account
    return {
        "id": uuid.UUID(new_event_id()),
        "account_id": account.id,
        "user_id": p.user_id,
        "client_order_id": p.client_order_id,
        "idempotency_key": body.idempotency_key,
        "venue": account.venue,
        "symbol": instrument.symbol,
        "base_asset": instrument.base,
        "quote_asset": instrument.quote,
        "lot_size": instrument.lot_size,
        "side": body.side,
        "type": body.type,
        "status": "pending_new",
        "quantity": body.quantity,
        "price": body.price,
        "stop_price": body.stop_price,
        "trailing_amount": body.trailing_amount,
        "trailing_percent": body.trailing_percent,
        "time_in_force": body.time_in_force,
        "expire_at": body.expire_at,
        "post_only": body.post_only,
        "reduce_only": body.reduce_only,
        "stop_loss_price": body.stop_loss_price,
        "take_profit_price": body.take_profit_price,
        "trailing_stop_amount": body.trailing_stop_amount,
        "trailing_stop_percent": body.trailing_stop_percent,
        "reference_price": last_price,
        "lock_asset": lock_asset,
        "locked": lock,
        "accepted_ns": time.time_ns(),
        "leverage": perp.leverage if perp else None,
        "margin_mode": perp.margin_mode if perp else None,
        "contract_size": perp.contract_size if perp else None,
        "position_side": body.position_side,
        "traceparent": inject_trace({}).get("traceparent"),
    }


def risk_request(row: Row[Any]) -> RiskCheckRequest:
    """The pre-trade check of a stored ``pending_new`` order."""
    price = row.price or row.stop_price or row.reference_price
    return RiskCheckRequest(
        user_id=row.user_id,
        account_id=str(row.account_id),
        order_id=str(row.id),
        client_order_id=row.client_order_id,
        venue=row.venue,
        symbol=row.symbol,
        side=row.side,
        type=row.type,
        quantity=row.quantity,
        price=row.price,
        reference_price=row.reference_price,
        notional=row.quantity * price if price is not None else Decimal(0),
        contract_size=row.contract_size,
        position_side=row.position_side,
    )


def places_plainly(
    current: Row[Any], account: Row[Any], verdict: RiskVerdict, extra: dict[str, Any], halted: str | None
) -> bool:
    """``OrderSubmitter.accept_locked`` would only move this pending order to ``new`` and place it
    (none of its other branches: a halt, a refusal, a bypass audited, a venue, an option's fill,
    a queue position to store); ``orders_batch`` moves such orders together."""
    return (
        halted is None and verdict.approved and not verdict.bypassed and account.kind == "paper"
        and not extra and not held_as_option(current)
    )  # fmt: skip
