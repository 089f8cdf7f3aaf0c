"""A grid or DCA order's key in the bot's order book and a grid restart's new generation (pure)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from tradeloom.strategy_runner.domain.dca_fills import dca_order_key
from tradeloom.strategy_runner.domain.grid_bot import (
    MAX_LEVELS,
    GridConfig,
    Lot,
    grid_levels,
    grid_order_key,
    new_lots,
    next_generation,
    on_fill,
    resting_orders,
)

BOT = str(uuid.UUID(int=7))
CONFIG = GridConfig(Decimal(90), Decimal(110), 5, Decimal("0.1"))


def test_each_lot_side_and_cycle_has_its_own_negative_key() -> None:
    keys = [
        grid_order_key(lot, side, cycle)
        for lot in range(MAX_LEVELS - 1)
        for side in ("buy", "sell")
        for cycle in range(4)
    ]
    assert len(set(keys)) == len(keys)
    assert max(keys) < 0  # never a bar's open time


def test_a_new_generation_gives_every_resting_order_a_new_client_id_and_ignores_old_fills() -> None:
    levels = grid_levels(CONFIG, Decimal("0.01"))
    lots = [Lot(0, holding=True), *new_lots(CONFIG)[1:]]
    before = resting_orders(BOT, CONFIG, levels, lots, Decimal(100))
    renewed = next_generation(lots)
    after = resting_orders(BOT, CONFIG, levels, renewed, Decimal(100))
    assert [(o.side, o.price) for o in after] == [(o.side, o.price) for o in before]
    assert not {o.client_order_id for o in after} & {o.client_order_id for o in before}
    late, order = on_fill(BOT, CONFIG, levels, renewed, before[0].client_order_id)  # a cancelled one's
    assert (late, order) == (renewed, None)


def test_each_dca_cycle_and_step_has_its_own_negative_key() -> None:
    steps = ["b", *(f"s{k}" for k in range(1, 51)), *(f"t{n}" for n in range(1, 52))]
    keys = [dca_order_key(cycle, step) for cycle in range(4) for step in steps]
    assert len(set(keys)) == len(keys)
    assert max(keys) < 0
