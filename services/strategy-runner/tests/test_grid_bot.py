"""A grid bot's ladder: validation naming the field, deterministic client ids, and over random
bars the orders it rests fill exactly like ``tradeloom.quant``'s grid backtest (bars and prices)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import numpy as np
import pytest

from tradeloom.quant.simulator import Bars, TradeColumn
from tradeloom.quant.strategies.lot_strategies import run_lot_strategy
from tradeloom.shared.bot_orders import bot_of_client_order_id
from tradeloom.strategy_runner.domain.grid_bot import (
    GridConfig,
    GridOrder,
    Lot,
    after_fill,
    grid_client_order_id,
    grid_levels,
    grid_problems,
    new_lots,
    on_fill,
    parse_grid_client_order_id,
    resting_orders,
)

BOT = str(uuid.UUID(int=7))
CONFIG = GridConfig(Decimal("90"), Decimal("110"), 11, Decimal("0.5"))
TICK, LOT_SIZE = Decimal("0.01"), Decimal("0.001")


def fill_price(order: GridOrder, bar: tuple[float, float, float, float]) -> Decimal | None:
    """The paper exchange's limit fill: at the level, or at a better open."""
    o, h, lo, _ = (Decimal(str(v)) for v in bar)
    if order.side == "buy":
        return o if o <= order.price else (order.price if lo <= order.price else None)
    return o if o >= order.price else (order.price if h >= order.price else None)


def replay(
    bars: list[tuple[float, float, float, float]],
) -> list[tuple[int, Decimal, int | None, Decimal | None]]:
    """The bot over the bars: the ladder rested at each close, filled by the next bar."""
    levels = grid_levels(CONFIG, TICK)
    lots = new_lots(CONFIG)
    open_buys: dict[int, tuple[int, Decimal]] = {}
    trades = []
    seen: set[str] = set()
    for t in range(1, len(bars)):
        for order in resting_orders(BOT, CONFIG, levels, lots, Decimal(str(bars[t - 1][3]))):
            price = fill_price(order, bars[t])
            if price is None:
                continue
            assert order.client_order_id not in seen  # one order per (lot, side, cycle)
            seen.add(order.client_order_id)
            lots[order.lot] = after_fill(lots[order.lot], order.side)
            if order.side == "buy":
                open_buys[order.lot] = (t, price)
            else:
                entry_bar, entry_price = open_buys.pop(order.lot)
                trades.append((entry_bar, entry_price, t, price))
    return trades + [(bar, price, None, None) for bar, price in open_buys.values()]


def backtested(
    bars: list[tuple[float, float, float, float]],
) -> list[tuple[int, Decimal, int | None, Decimal | None]]:
    arrays = np.array(bars, dtype=np.float64).T
    params = {"lower": 90.0, "upper": 110.0, "levels": 11, "cash_per_lot": 50.0}
    result = run_lot_strategy("grid", Bars(*arrays, volume=np.ones(len(bars))), params, 1e9)
    out: list[tuple[int, Decimal, int | None, Decimal | None]] = []
    for row in result.trades.table:
        entry = (int(row[TradeColumn.ENTRY_INDEX]), Decimal(str(float(row[TradeColumn.ENTRY_PRICE]))))
        if int(row[TradeColumn.EXIT_REASON]) == 4:  # end of data: still held
            out.append((*entry, None, None))
        else:
            out.append(
                (*entry, int(row[TradeColumn.EXIT_INDEX]), Decimal(str(float(row[TradeColumn.EXIT_PRICE]))))
            )
    return out


def random_bars(seed: int, n: int = 120) -> list[tuple[float, float, float, float]]:
    rng = np.random.default_rng(seed)
    closes = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.012, n))), 2)
    opens = np.round(np.concatenate([[100.0], closes[:-1]]) * np.exp(rng.normal(0, 0.003, n)), 2)
    highs = np.round(np.maximum(opens, closes) * np.exp(np.abs(rng.normal(0, 0.006, n))), 2)
    lows = np.round(np.minimum(opens, closes) * np.exp(-np.abs(rng.normal(0, 0.006, n))), 2)
    return [tuple(map(float, row)) for row in zip(opens, highs, lows, closes, strict=True)]  # type: ignore[misc]


def key(trade: tuple[int, Decimal, int | None, Decimal | None]) -> tuple[int, Decimal, int, Decimal]:
    return (trade[0], trade[1], -1 if trade[2] is None else trade[2], trade[3] or Decimal(0))


def test_the_grid_bot_fills_like_the_grid_backtest() -> None:
    round_trips = 0
    for seed in range(25):
        bars = random_bars(seed)
        mine, expected = replay(bars), backtested(bars)
        assert sorted(mine, key=key) == sorted(expected, key=key), seed
        round_trips += sum(1 for trade in mine if trade[2] is not None)
    assert round_trips >= 50


def test_a_filled_level_is_replaced_by_the_opposite_order_one_step_away() -> None:
    levels = grid_levels(CONFIG, TICK)
    assert levels == [Decimal(90 + 2 * k) for k in range(11)]
    lots = new_lots(CONFIG)
    resting = resting_orders(BOT, CONFIG, levels, lots, Decimal("95"))
    assert [(o.side, o.price) for o in resting] == [("buy", Decimal(p)) for p in (90, 92, 94)]
    lots[2] = after_fill(lots[2], "buy")
    sell = next(o for o in resting_orders(BOT, CONFIG, levels, lots, Decimal("94")) if o.lot == 2)
    assert (sell.side, sell.price, sell.quantity) == ("sell", Decimal(96), Decimal("0.5"))
    lots[2] = after_fill(lots[2], "sell")
    assert lots[2] == Lot(2, holding=False, cycle=1)
    again = next(o for o in resting_orders(BOT, CONFIG, levels, lots, Decimal("96")) if o.lot == 2)
    assert (again.side, again.price) == ("buy", Decimal(94)) and again.client_order_id != resting[
        2
    ].client_order_id


def test_each_fill_is_replaced_exactly_once_however_often_it_arrives() -> None:
    levels = grid_levels(CONFIG, TICK)
    lots = new_lots(CONFIG)
    buy = resting_orders(BOT, CONFIG, levels, lots, Decimal("95"))[1]
    lots, sell = on_fill(BOT, CONFIG, levels, lots, buy.client_order_id)
    assert sell == GridOrder(grid_client_order_id(BOT, 1, "sell", 0), 1, "sell", Decimal(94), Decimal("0.5"))
    assert on_fill(BOT, CONFIG, levels, lots, buy.client_order_id) == (lots, None)  # redelivered
    lots, rebuy = on_fill(BOT, CONFIG, levels, lots, sell.client_order_id)
    assert rebuy is not None and (rebuy.side, rebuy.price, lots[1]) == ("buy", Decimal(92), Lot(1, False, 1))
    assert rebuy.client_order_id == grid_client_order_id(BOT, 1, "buy", 1)
    for stale in (sell.client_order_id, buy.client_order_id):  # an earlier cycle's fills
        assert on_fill(BOT, CONFIG, levels, lots, stale) == (lots, None)
    other = str(uuid.UUID(int=8))
    for foreign in (grid_client_order_id(other, 1, "buy", 1), f"bot-{uuid.UUID(BOT).hex}-1700", "x"):
        assert on_fill(BOT, CONFIG, levels, lots, foreign) == (lots, None)
    assert on_fill(BOT, CONFIG, levels, lots, grid_client_order_id(BOT, 10, "buy", 0)) == (lots, None)


def test_a_grid_client_id_reads_back_to_its_lot_side_and_cycle() -> None:
    cid = grid_client_order_id(BOT, 198, "sell", 123_456)
    assert parse_grid_client_order_id(BOT, cid) == (198, "sell", 123_456)
    assert parse_grid_client_order_id(BOT, cid + "x") is None
    assert parse_grid_client_order_id(str(uuid.UUID(int=8)), cid) is None


def test_client_ids_are_deterministic_short_and_name_the_bot() -> None:
    cid = grid_client_order_id(BOT, 198, "sell", 123_456)
    assert cid == grid_client_order_id(BOT, 198, "sell", 123_456) and len(cid) <= 64
    assert bot_of_client_order_id(cid) == BOT
    assert len({grid_client_order_id(BOT, lot, side, 0) for lot in range(3) for side in ("buy", "sell")}) == 6


@pytest.mark.parametrize(
    ("config", "free", "field", "rule"),
    [
        (GridConfig(Decimal(110), Decimal(90), 11, Decimal(1)), Decimal(10**6), "upper", "not_above_lower"),
        (GridConfig(Decimal(90), Decimal(110), 1, Decimal(1)), Decimal(10**6), "levels", "out_of_range"),
        (GridConfig(Decimal(90), Decimal(110), 201, Decimal(1)), Decimal(10**6), "levels", "out_of_range"),
        (
            GridConfig(Decimal(90), Decimal(110), 11, Decimal("0.0005")),
            Decimal(10**6),
            "quantity_per_level",
            "off_lot",
        ),
        (GridConfig(Decimal("90.001"), Decimal(110), 11, Decimal(1)), Decimal(10**6), "lower", "off_tick"),
        (GridConfig(Decimal(90), Decimal("90.05"), 11, Decimal(1)), Decimal(10**6), "levels", "too_dense"),
        (
            GridConfig(Decimal(90), Decimal(110), 11, Decimal(1)),
            Decimal(275),
            "quantity_per_level",
            "over_balance",
        ),
    ],
)
def test_an_invalid_grid_names_its_field(config: GridConfig, free: Decimal, field: str, rule: str) -> None:
    problems = grid_problems(config, tick=TICK, lot_size=LOT_SIZE, price=Decimal(95), free_quote=free)
    assert [(p.field, p.rule) for p in problems][:1] == [(field, rule)], problems


def test_a_grid_within_the_balance_is_valid() -> None:
    # the buys below 95: 90 + 92 + 94 = 276 for one unit each
    assert (
        grid_problems(CONFIG, tick=TICK, lot_size=LOT_SIZE, price=Decimal(95), free_quote=Decimal(138)) == []
    )
