"""Which bot placed an order: strategy-runner derives a bot order's ``client_order_id`` from
(bot, bar) as ``bot-<bot uuid hex>-<bar open ns>`` (DESIGN 2a); anything else is no bot's."""

from __future__ import annotations

import uuid

PREFIX = "bot-"


def bot_of_client_order_id(value: str) -> str | None:
    """The bot id (canonical uuid text) in a bot's client order id, else ``None``."""
    if not value.startswith(PREFIX):
        return None
    head = value[len(PREFIX) :].split("-", 1)[0]
    if len(head) != 32:
        return None
    try:
        return str(uuid.UUID(hex=head))
    except ValueError:
        return None
