"""A DCA bot's row of ``bots`` (``kind = 'dca'``), its cycle state and its orders in ``bot_orders``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name
from tradeloom.strategy_runner.domain.dca_bot import DcaConfig, DcaOrder, Step
from tradeloom.strategy_runner.domain.dca_fills import DcaState, dca_order_key, parse_dca_client_order_id

FIELDS = ("base_quantity", "safety_quantity", "price_deviation", "take_profit", "step_scale", "volume_scale")


def config_of(row: Row[Any]) -> DcaConfig:
    dca = row.dca
    values = {name: Decimal(dca[name]) for name in FIELDS}
    return DcaConfig(max_safety_orders=int(dca["max_safety_orders"]), **values)


def units_of(row: Row[Any]) -> tuple[Decimal, Decimal]:
    """(tick, lot size) of the instrument, as read at create."""
    return Decimal(row.dca["tick"]), Decimal(row.dca["lot_size"])


def state_of(row: Row[Any]) -> DcaState:
    state = row.dca_state
    fills = tuple(Step(int(f["step"]), Decimal(f["price"]), Decimal(f["quantity"])) for f in state["fills"])
    return DcaState(int(state["cycle"]), fills)


def dca_json(config: DcaConfig, tick: Decimal, lot_size: Decimal) -> dict[str, Any]:
    return {name: str(getattr(config, name)) for name in FIELDS} | {
        "max_safety_orders": config.max_safety_orders, "tick": str(tick), "lot_size": str(lot_size),
    }  # fmt: skip


def _state_json(state: DcaState) -> str:
    fills = [{"step": f.step, "price": str(f.price), "quantity": str(f.quantity)} for f in state.fills]
    return json.dumps({"cycle": state.cycle, "fills": fills})


class DcaBotsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def create(
        self, conn: AsyncConnection, bot_id: str, *, user_id: str, name: str, account_id: str, venue: str,
        symbol: str, config: DcaConfig, tick: Decimal, lot_size: Decimal,
    ) -> None:  # fmt: skip
        dca = dca_json(config, tick, lot_size)
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bots (id, user_id, name, account_id, venue, symbol, kind, dca, '
                "dca_state) VALUES (:id, :user, :name, :account, :venue, :symbol, 'dca', "
                "CAST(:dca AS jsonb), CAST(:state AS jsonb))"
            ),
            {
                "id": uuid.UUID(bot_id), "user": user_id, "name": name, "account": account_id,
                "venue": venue, "symbol": symbol, "dca": json.dumps(dca), "state": _state_json(DcaState()),
            },
        )  # fmt: skip

    async def set_config(
        self, conn: AsyncConnection, bot_id: uuid.UUID, config: DcaConfig, tick: Decimal, lot_size: Decimal
    ) -> None:
        """New cycle settings (``dca_bots_update`` of a stopped bot; its next start's cycle runs them)."""
        await conn.execute(
            text(f'UPDATE "{self.s}".bots SET dca = CAST(:dca AS jsonb), updated_at = now() WHERE id = :id'),
            {"id": bot_id, "dca": json.dumps(dca_json(config, tick, lot_size))},
        )

    async def set_state(self, conn: AsyncConnection, bot_id: uuid.UUID, state: DcaState) -> None:
        await conn.execute(
            text(
                f'UPDATE "{self.s}".bots SET dca_state = CAST(:state AS jsonb), updated_at = now() '
                "WHERE id = :id"
            ),
            {"id": bot_id, "state": _state_json(state)},
        )

    async def add_order(self, conn: AsyncConnection, bot_id: uuid.UUID, symbol: str, order: DcaOrder) -> bool:
        """Record an order for the resend loop to send (``sending``); False when it exists."""
        parsed = parse_dca_client_order_id(str(bot_id), order.client_order_id)
        assert parsed is not None, order.client_order_id
        result = await conn.execute(
            text(
                f'INSERT INTO "{self.s}".bot_orders (bot_id, symbol, bar_ns, client_order_id, side, '
                "quantity, order_type, price) VALUES (:bot, :symbol, :key, :cid, :side, :qty, :type, "
                ":price) ON CONFLICT DO NOTHING RETURNING bar_ns"
            ),
            {
                "bot": bot_id, "symbol": symbol, "key": dca_order_key(*parsed), "cid": order.client_order_id,
                "side": order.side, "qty": order.quantity, "type": order.type, "price": order.price,
            },
        )  # fmt: skip
        return result.first() is not None

    async def request_cancel(
        self, conn: AsyncConnection, bot_id: uuid.UUID, client_ids: Sequence[str]
    ) -> None:
        """Orders a fill made obsolete: the cancel loop cancels them at order-router."""
        if client_ids:
            await conn.execute(
                text(
                    f'UPDATE "{self.s}".bot_orders SET cancel_requested = true WHERE bot_id = :bot '
                    "AND client_order_id = ANY(:cids) AND status NOT IN ('filled', 'canceled', 'rejected', "
                    "'expired')"
                ),
                {"bot": bot_id, "cids": list(client_ids)},
            )

    async def cancels_due(self, conn: AsyncConnection, owner: str) -> list[Row[Any]]:
        """Flagged orders order-router holds, of bots we hold the lease of (an unsent one is sent
        first by the resend loop, then cancelled here: never a race with a send in flight), or of
        stopped bots (no lease, nothing sent any more: any replica cancels; a second cancel of a
        done order is a harmless conflict)."""
        result = await conn.execute(
            text(
                f'SELECT o.client_order_id, o.order_id, b.user_id FROM "{self.s}".bot_orders o '
                f'JOIN "{self.s}".bots b ON b.id = o.bot_id '
                f'LEFT JOIN "{self.s}".bot_leases l ON l.bot_id = o.bot_id '
                "WHERE o.cancel_requested AND o.order_id IS NOT NULL "
                "AND (b.status = 'stopped' OR (l.owner = :owner AND l.expires_at > now())) "
                "AND o.status NOT IN ('filled', 'canceled', 'rejected', 'expired') "
                "ORDER BY o.created_at LIMIT 50"
            ),
            {"owner": owner},
        )
        return list(result)

    async def cancel_done(self, conn: AsyncConnection, client_id: str) -> None:
        await conn.execute(
            text(f'UPDATE "{self.s}".bot_orders SET cancel_requested = false WHERE client_order_id = :cid'),
            {"cid": client_id},
        )
