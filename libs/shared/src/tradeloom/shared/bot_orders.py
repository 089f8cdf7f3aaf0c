"""Which bot placed an order. strategy-runner derives a bot order's ``client_order_id`` from
(bot, bar) as ``bot-<bot uuid hex>-<bar open ns>`` (a bot's further symbols add ``-m<index>``):
deterministic, so a restart or a redelivered candle never sends an order twice. risk-monitor and
analytics read the bot back from it to keep each bot's positions and equity apart. One rule, here,
for every service."""

from __future__ import annotations

import uuid

BOT_ORDER_PREFIX = "bot-"


def bot_client_order_id(bot_id: str, bar_ns: int) -> str:
    """The client order id of ``bot_id``'s order on the bar opening at ``bar_ns`` (≤ 56 characters)."""
    return f"{BOT_ORDER_PREFIX}{uuid.UUID(bot_id).hex}-{bar_ns}"


def bot_of_client_order_id(value: str) -> str | None:
    """The bot id (canonical uuid text) in a bot's client order id, else ``None`` (anyone else's)."""
    if not value.startswith(BOT_ORDER_PREFIX):
        return None
    head = value[len(BOT_ORDER_PREFIX) :].split("-", 1)[0]
    if len(head) != 32:
        return None
    try:
        return str(uuid.UUID(hex=head))
    except ValueError:
        return None
