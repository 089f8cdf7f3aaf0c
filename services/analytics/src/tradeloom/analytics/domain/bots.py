"""Which bot placed an order: the shared rule of ``tradeloom.shared.bot_orders``."""

from __future__ import annotations

from tradeloom.shared.bot_orders import bot_of_client_order_id

__all__ = ["bot_of_client_order_id"]
