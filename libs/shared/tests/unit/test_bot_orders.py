"""The bot order id rule every service reads: a round trip, and anyone else's ids are no bot's."""

from __future__ import annotations

import uuid

from tradeloom.shared.bot_orders import bot_client_order_id, bot_of_client_order_id


def test_a_bots_client_order_id_names_the_bot_and_fits_the_contract() -> None:
    bot = str(uuid.uuid4())
    value = bot_client_order_id(bot, 1_704_067_200_000_000_000)
    assert bot_of_client_order_id(value) == bot and len(value) <= 56


def test_other_ids_are_no_bots() -> None:
    bot = uuid.uuid4()
    for value in ("manual-1", "bot-nothex-1", f"bot-{bot.hex[:-1]}z-1", f"bot-{bot.hex[:-1]}-1", "", "bot-"):
        assert bot_of_client_order_id(value) is None, value
