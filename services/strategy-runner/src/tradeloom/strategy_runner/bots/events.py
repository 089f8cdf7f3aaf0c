"""Bot events through the outbox and the shape of decision rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.contracts.bots import BotDecision, BotDecisionMade, BotStatusChanged
from tradeloom.shared.outbox import Outbox


def decision_of(row: Row[Any]) -> BotDecision:
    return BotDecision(
        decision_id=row.id,
        bot_id=str(row.bot_id),
        bar_ns=row.bar_ns,
        symbol=row.symbol,
        signal=row.signal,
        action=row.action,
        reason=row.reason,
        quantity=None if row.quantity is None else str(row.quantity),
        client_order_id=row.client_order_id,
        order_id=row.order_id,
        created_at=row.created_at,
    )


async def decision_made(conn: AsyncConnection, outbox: Outbox, user_id: str, row: Row[Any]) -> None:
    decision = decision_of(row)
    await outbox.add(
        conn, BotDecisionMade(bot_id=decision.bot_id, user_id=user_id, decision=decision), decision.bot_id
    )


async def status_changed(
    conn: AsyncConnection, outbox: Outbox, bot_id: str, *, user_id: str, status: str, previous: str | None,
    reason: str, account_id: str | None = None, bot_name: str | None = None,
) -> None:  # fmt: skip
    """``account_id`` and ``bot_name`` go with an ``error`` (risk-monitor's alert names them)."""
    event = BotStatusChanged.model_validate(
        {
            "bot_id": bot_id,
            "user_id": user_id,
            "status": status,
            "previous_status": previous,
            "reason": reason,
            "account_id": account_id,
            "bot_name": bot_name,
        }
    )
    await outbox.add(conn, event, bot_id)
