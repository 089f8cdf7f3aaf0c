"""A DCA bot's reaction to each fill: the base places the safeties and the take-profit, a safety
moves the take-profit, the take-profit cancels the safeties and starts the next cycle; a
redelivered, stale or foreign fill changes nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal

from tradeloom.strategy_runner.domain.dca_bot import DcaConfig, Step, dca_client_order_id, take_profit_price
from tradeloom.strategy_runner.domain.dca_fills import (
    DcaReaction,
    DcaState,
    dca_on_fill,
    parse_dca_client_order_id,
)

BOT = str(uuid.UUID(int=9))
TICK, LOT_SIZE = Decimal("0.01"), Decimal("0.001")
CONFIG = DcaConfig(
    base_quantity=Decimal(1), safety_quantity=Decimal(1), price_deviation=Decimal("0.02"),
    max_safety_orders=3, take_profit=Decimal("0.01"), step_scale=Decimal(2), volume_scale=Decimal("1.5"),
)  # fmt: skip


def fill(state: DcaState, step: str, price: str, cycle: int = 0) -> DcaReaction:
    cid = dca_client_order_id(BOT, cycle, step)
    return dca_on_fill(BOT, CONFIG, state, cid, Decimal(price), tick=TICK, lot_size=LOT_SIZE)


def cid(step: str, cycle: int = 0) -> str:
    return dca_client_order_id(BOT, cycle, step)


def test_a_cycle_reacts_to_each_fill_once() -> None:
    base = fill(DcaState(), "b", "100")
    assert base.state == DcaState(0, (Step(0, Decimal(100), Decimal(1)),)) and base.cancel == []
    assert [o.client_order_id for o in base.place] == [cid("s1"), cid("s2"), cid("s3"), cid("t1")]
    assert fill(base.state, "b", "100") == DcaReaction(base.state)  # redelivered

    safety = fill(base.state, "s1", "98")
    assert safety.cancel == [cid("t1")] and [o.client_order_id for o in safety.place] == [cid("t2")]
    held = safety.state.fills
    assert safety.place[0].quantity == Decimal(2)
    assert safety.place[0].price == take_profit_price(CONFIG, held, TICK)
    assert fill(safety.state, "s1", "98") == DcaReaction(safety.state)  # redelivered
    assert fill(safety.state, "t1", "101") == DcaReaction(safety.state)  # the replaced take-profit

    done = fill(safety.state, "t2", "100")
    assert done.state == DcaState(1) and sorted(done.cancel) == [cid("s2"), cid("s3")]
    assert [(o.client_order_id, o.type) for o in done.place] == [(cid("b", 1), "market")]
    assert fill(done.state, "t2", "100") == DcaReaction(done.state)  # an earlier cycle's


def test_foreign_fills_change_nothing() -> None:
    state = fill(DcaState(), "b", "100").state
    other = dca_client_order_id(str(uuid.UUID(int=8)), 0, "s1")
    for foreign in (other, f"bot-{uuid.UUID(BOT).hex}-1700", cid("s9"), "x"):
        assert dca_on_fill(BOT, CONFIG, state, foreign, Decimal(1), tick=TICK, lot_size=LOT_SIZE) == (
            DcaReaction(state)
        )


def test_a_dca_client_id_reads_back_to_its_cycle_and_step() -> None:
    assert parse_dca_client_order_id(BOT, cid("t12", 345)) == (345, "t12")
    assert parse_dca_client_order_id(BOT, cid("b", 0)) == (0, "b")
    assert parse_dca_client_order_id(BOT, cid("b", 0) + "x") is None
    assert parse_dca_client_order_id(str(uuid.UUID(int=8)), cid("b")) is None
