"""A DCA bot's cycle: the safety ladder, the take-profit on the average entry moved by each fill,
deterministic client ids per (cycle, step), and validation naming the field."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from tradeloom.shared.bot_orders import bot_of_client_order_id
from tradeloom.strategy_runner.domain.dca_bot import (
    DcaConfig,
    Step,
    average_entry,
    cycle_orders,
    dca_problems,
    safety_ladder,
)

BOT = str(uuid.UUID(int=9))
TICK, LOT_SIZE = Decimal("0.01"), Decimal("0.001")
CONFIG = DcaConfig(
    base_quantity=Decimal(1), safety_quantity=Decimal(1), price_deviation=Decimal("0.02"),
    max_safety_orders=3, take_profit=Decimal("0.01"), step_scale=Decimal(2), volume_scale=Decimal("1.5"),
)  # fmt: skip


def test_the_safety_ladder_grows_by_step_and_volume_scale() -> None:
    ladder = safety_ladder(CONFIG, Decimal(100), TICK, LOT_SIZE)
    # deviations 2 %, 2 + 4 = 6 %, 6 + 8 = 14 %; sizes 1, 1.5, 2.25
    assert ladder == [
        Step(1, Decimal("98.00"), Decimal("1.000")),
        Step(2, Decimal("94.00"), Decimal("1.500")),
        Step(3, Decimal("86.00"), Decimal("2.250")),
    ]


def test_a_cycle_takes_profit_on_the_average_entry_moved_by_each_fill() -> None:
    first = cycle_orders(BOT, CONFIG, 0, [], tick=TICK, lot_size=LOT_SIZE)
    assert [(o.side, o.type, o.quantity) for o in first] == [("buy", "market", Decimal(1))]
    fills = [Step(0, Decimal(100), Decimal(1))]
    after_base = cycle_orders(BOT, CONFIG, 0, fills, tick=TICK, lot_size=LOT_SIZE)
    assert [(o.side, o.price) for o in after_base] == [
        ("buy", Decimal("98.00")),
        ("buy", Decimal("94.00")),
        ("buy", Decimal("86.00")),
        ("sell", Decimal("101.00")),
    ]
    fills.append(Step(1, Decimal("98.00"), Decimal("1.000")))
    fills.append(Step(2, Decimal("94.00"), Decimal("1.500")))
    assert average_entry(fills) == Decimal(339) / Decimal("3.5")  # (100 + 98 + 141) / 3.5
    after_two = cycle_orders(BOT, CONFIG, 0, fills, tick=TICK, lot_size=LOT_SIZE)
    assert [(o.side, o.price) for o in after_two[:-1]] == [("buy", Decimal("86.00"))]
    tp = after_two[-1]
    assert (tp.side, tp.quantity, tp.price) == (
        "sell",
        Decimal("3.500"),
        Decimal("97.83"),
    )  # 96.857… × 1.01 = 97.8257… up
    ids = [o.client_order_id for o in first + after_base + after_two]
    assert len(set(ids)) == len(ids) - 1  # the one safety order still resting keeps its id
    assert all(bot_of_client_order_id(cid) == BOT and len(cid) <= 64 for cid in ids)
    assert (
        cycle_orders(BOT, CONFIG, 1, [], tick=TICK, lot_size=LOT_SIZE)[0].client_order_id
        != first[0].client_order_id
    )


def with_(**changes: object) -> DcaConfig:
    return DcaConfig(**{**CONFIG.__dict__, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("config", "free", "field", "rule"),
    [
        (with_(base_quantity=Decimal("0.0001")), Decimal(10**6), "base_quantity", "off_lot"),
        (with_(price_deviation=Decimal(0)), Decimal(10**6), "price_deviation", "out_of_range"),
        (with_(max_safety_orders=51), Decimal(10**6), "max_safety_orders", "out_of_range"),
        (with_(take_profit=Decimal(0)), Decimal(10**6), "take_profit", "out_of_range"),
        (with_(volume_scale=Decimal(0)), Decimal(10**6), "volume_scale", "out_of_range"),
        (
            with_(price_deviation=Decimal("0.2"), max_safety_orders=5),
            Decimal(10**6),
            "price_deviation",
            "below_zero",
        ),
        (CONFIG, Decimal("471.99"), "safety_quantity", "over_balance"),
        (with_(max_safety_orders=0), Decimal(99), "base_quantity", "over_balance"),
    ],
)
def test_an_invalid_dca_names_its_field(config: DcaConfig, free: Decimal, field: str, rule: str) -> None:
    problems = dca_problems(config, tick=TICK, lot_size=LOT_SIZE, price=Decimal(100), free_quote=free)
    assert [(p.field, p.rule) for p in problems][:1] == [(field, rule)], problems


def test_a_dca_within_the_balance_is_valid() -> None:
    # 100 + 98 + 94 × 1.5 + 86 × 2.25 = 532.5
    assert (
        dca_problems(CONFIG, tick=TICK, lot_size=LOT_SIZE, price=Decimal(100), free_quote=Decimal("532.5"))
        == []
    )
