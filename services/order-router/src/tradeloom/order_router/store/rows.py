"""Database rows as contract models and as the domain's ``PaperOrder``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from tradeloom.order_router.domain.matching import PaperOrder
from tradeloom.order_router.venues import Balance as VenueBalance
from tradeloom.shared.contracts.exchange_connections import ExchangeConnectionInfo, KeyPermissions
from tradeloom.shared.contracts.orders import FillInfo, OrderInfo
from tradeloom.shared.contracts.orders_accounts import AccountInfo, Balance

AVERAGE_QUANTUM = Decimal("1e-12")


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def order_info(row: Row[Any]) -> OrderInfo:
    filled = Decimal(row.filled_quantity)
    average = (Decimal(row.filled_notional) / filled).quantize(AVERAGE_QUANTUM) if filled > 0 else None
    return OrderInfo(
        order_id=str(row.id),
        account_id=str(row.account_id),
        client_order_id=row.client_order_id,
        venue=row.venue,
        symbol=row.symbol,
        side=row.side,
        type=row.type,
        status=row.status,
        quantity=row.quantity,
        filled_quantity=filled,
        average_price=average,
        price=row.price,
        stop_price=row.stop_price,
        trailing_amount=row.trailing_amount,
        trailing_percent=row.trailing_percent,
        triggered=row.triggered,
        time_in_force=row.time_in_force,
        expire_at=row.expire_at,
        post_only=row.post_only,
        reduce_only=row.reduce_only,
        reference_price=row.reference_price,
        fees=row.fees,
        reject_reason=row.reject_reason,
        stop_loss_price=row.stop_loss_price,
        take_profit_price=row.take_profit_price,
        trailing_stop_percent=row.trailing_stop_percent,
        trailing_stop_amount=row.trailing_stop_amount,
        parent_order_id=None if row.parent_id is None else str(row.parent_id),
        oco_group=None if row.oco_group is None else str(row.oco_group),
        created_at=row.created_at,
        updated_at=row.updated_at,
        queue_ahead=row.queue_ahead,
        position_side=row.position_side,
    )


def fill_info(row: Row[Any]) -> FillInfo:
    return FillInfo(
        fill_id=str(row.id),
        order_id=str(row.order_id),
        account_id=str(row.account_id),
        venue=row.venue,
        venue_fill_id=row.venue_fill_id,
        symbol=row.symbol,
        side=row.side,
        price=row.price,
        quantity=row.quantity,
        fee=row.fee,
        fee_asset=row.fee_asset,
        liquidity=row.liquidity,
        trade_id=row.trade_id,
        filled_at=row.filled_at,
    )


def paper_order(row: Row[Any]) -> PaperOrder:
    expire_ns = None if row.expire_at is None else int(row.expire_at.timestamp() * 1_000_000) * 1_000
    return PaperOrder(
        side=row.side,
        type=row.type,
        status=row.status,
        quantity=Decimal(row.quantity),
        filled_quantity=Decimal(row.filled_quantity),
        locked=Decimal(row.locked),
        time_in_force=row.time_in_force,
        accepted_ns=row.accepted_ns,
        price=_dec(row.price),
        stop_price=_dec(row.stop_price),
        trailing_amount=_dec(row.trailing_amount),
        trailing_percent=_dec(row.trailing_percent),
        trail_extreme=_dec(row.trail_extreme),
        triggered=row.triggered,
        expire_ns=expire_ns,
        queue_ahead=_dec(row.queue_ahead),
        contract_size=_dec(row.contract_size),
    )


def account_info(row: Row[Any], balances: list[Row[Any]]) -> AccountInfo:
    return AccountInfo(
        account_id=str(row.id),
        name=row.name,
        kind=row.kind,
        venue=row.venue,
        status=row.status,
        maker_fee_rate=row.maker_fee_rate,
        taker_fee_rate=row.taker_fee_rate,
        slippage_model=row.slippage_model,
        slippage=row.slippage,
        risk_fail_open=row.risk_fail_open,
        balances=balance_list(balances),
        created_at=row.created_at,
        updated_at=row.updated_at,
        connection_id=None if row.connection_id is None else str(row.connection_id),
        queue_position=row.queue_position,
    )


def balance_list(rows: list[Row[Any]]) -> list[Balance]:
    return [Balance(asset=r.asset, free=r.free, locked=r.locked, total=r.free + r.locked) for r in rows]


def venue_balances(balances: list[VenueBalance]) -> list[Balance]:
    return [Balance(asset=b.asset, free=b.free, locked=b.locked, total=b.total) for b in balances]


def connection_info(row: Row[Any]) -> ExchangeConnectionInfo:
    """Never the sealed key: only its last four characters."""
    return ExchangeConnectionInfo(
        connection_id=str(row.id),
        venue=row.venue,
        label=row.label,
        sandbox=row.sandbox,
        api_key_last4=row.api_key_last4,
        permissions=KeyPermissions(**row.permissions),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
