# ruff: noqa: PLR0917 (compiled kernels take positional arguments: Numba has no keyword-only ones)
"""Reference simulator: the same rules as the compiled kernel, written as a plain Python object.

See ``tradeloom.quant.simulator.kernel`` for the order of events inside a bar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tradeloom.quant.fills.models import CommissionModel, Costs, OrderType, SizingMode, SlippageModel
from tradeloom.quant.reference.draws import reference_uniform_draw
from tradeloom.quant.simulator.config import ExitReason, SimulationConfig
from tradeloom.quant.types import BoolArray, FloatArray, IntArray


def ref_slip(costs: Costs, side: int, price: float, qty: float, volume: float, draw: float = 0.0) -> float:
    if costs.slippage_model == SlippageModel.NONE or qty == 0:
        return price
    if costs.slippage_model == SlippageModel.FIXED:
        slip = costs.slippage
    elif costs.slippage_model == SlippageModel.PERCENT:
        slip = price * costs.slippage
    elif costs.slippage_model == SlippageModel.RANDOM:
        slip = price * costs.slippage * draw
    else:
        share = qty / volume if volume > 0 else 1.0
        slip = price * costs.slippage * share**2
    return price + side * slip


def ref_rate(costs: Costs, maker: bool, traded: float) -> float:
    if costs.commission_model == CommissionModel.PERCENT:
        return costs.maker_rate if maker else costs.taker_rate
    if costs.commission_model == CommissionModel.TIERED:
        rates = costs.tier_maker_rates if maker else costs.tier_taker_rates
        reached = [k for k, threshold in enumerate(costs.tier_thresholds) if traded >= threshold]
        return float(rates[reached[-1]] if reached else rates[0])
    return 0.0


def ref_fee(costs: Costs, notional: float, maker: bool, traded: float) -> float:
    if costs.commission_model == CommissionModel.NONE or notional == 0:
        return 0.0
    if costs.commission_model == CommissionModel.FIXED:
        return costs.fixed_fee
    return abs(notional) * ref_rate(costs, maker, traded)


def ref_fill(order_type: int, side: int, level: float, o: float, h: float, lo: float) -> float:
    if order_type == OrderType.MARKET:
        return o
    buy_limit_or_sell_stop = (side > 0) == (order_type == OrderType.LIMIT)
    if buy_limit_or_sell_stop:  # fills at or below the level
        return o if o <= level else (level if lo <= level else math.nan)
    return o if o >= level else (level if h >= level else math.nan)


@dataclass
class Position:
    side: int
    size: float
    price: float
    index: int
    fee: float
    peak: float
    lowest: float
    highest: float


@dataclass
class ReferenceSimulator:
    config: SimulationConfig
    costs: Costs
    cash: float = 0.0
    traded: float = 0.0
    fills: int = 0  # draw number of the next fill under RANDOM slippage
    position: Position | None = None
    trades: list[list[float]] = field(default_factory=list)

    def enter(self, side: int, ref: float, maker: bool, volume: float, vol: float, t: int) -> bool:
        c, k = self.config, self.costs
        if not (ref > 0 and math.isfinite(ref)):
            wanted = 0.0
        elif c.sizing_mode == SizingMode.FIXED_QUANTITY:
            wanted = c.sizing_value
        elif c.sizing_mode == SizingMode.FIXED_CASH:
            wanted = c.sizing_value / ref
        elif c.sizing_mode == SizingMode.PERCENT_EQUITY:
            wanted = self.cash * c.sizing_value / ref
        else:
            ok = math.isfinite(vol) and vol > 0
            wanted = min(self.cash * c.sizing_value / vol, self.cash * c.max_leverage) / ref if ok else 0.0
        if k.slippage_model == SlippageModel.VOLUME_SHARE:
            wanted = min(wanted, max(k.volume_cap * volume, 0.0))
        leverage = c.max_leverage if c.sizing_mode == SizingMode.VOLATILITY_TARGET else 1.0
        fixed = k.fixed_fee if k.commission_model == CommissionModel.FIXED else 0.0
        draw = self.draw()
        price = ref if maker else ref_slip(k, side, ref, wanted, volume, draw)
        unit = price * (1 + ref_rate(k, maker, self.traded))
        qty = min(wanted, max(self.cash * leverage - fixed, 0.0) / unit) if unit > 0 else 0.0
        if c.whole_units:
            qty = math.floor(qty)
        if qty <= 0:
            return False
        price = ref if maker else ref_slip(k, side, ref, qty, volume, draw)
        fee = ref_fee(k, qty * price, maker, self.traded)
        self.cash -= side * qty * price + fee
        self.traded += qty * price
        self.fills += 1
        self.position = Position(side, qty, price, t, fee, price, price, price)
        return True

    def draw(self) -> float:
        if self.costs.slippage_model != SlippageModel.RANDOM:
            return 0.0
        return reference_uniform_draw(self.costs.slippage_seed, self.fills)

    def record(self, price: float, fee: float, t: int, reason: int) -> None:
        p = self.position
        assert p is not None
        low, high = min(p.lowest, price), max(p.highest, price)
        pnl = p.side * (price - p.price) * p.size - p.fee - fee
        mae = (low - p.price) / p.price if p.side > 0 else (p.price - high) / p.price
        mfe = (high - p.price) / p.price if p.side > 0 else (p.price - low) / p.price
        self.trades.append([p.side, p.index, t, p.price, price, p.size, pnl, pnl / (p.price * p.size),
                            p.fee + fee, mae, mfe, reason])  # fmt: skip

    def exit(self, ref: float, maker: bool, volume: float, t: int, reason: int) -> None:
        p = self.position
        assert p is not None
        price = ref if maker else ref_slip(self.costs, -p.side, ref, p.size, volume, self.draw())
        fee = ref_fee(self.costs, p.size * price, maker, self.traded)
        self.cash += p.side * p.size * price - fee
        self.traded += p.size * price
        self.fills += 1
        self.record(price, fee, t, reason)
        self.position = None

    def stops(self, o: float, h: float, lo: float, v: float, t: int) -> bool:
        p, c = self.position, self.config
        assert p is not None
        candidates = []
        if not math.isnan(c.stop_loss):
            candidates.append((p.price * (1 - p.side * c.stop_loss), ExitReason.STOP_LOSS))
        if not math.isnan(c.trailing_stop):
            candidates.append((p.peak * (1 - p.side * c.trailing_stop), ExitReason.TRAILING_STOP))
        if candidates:  # the tighter stop: highest for a long, lowest for a short (stop-loss on ties)
            level, reason = max(candidates, key=lambda lv: (p.side * lv[0], lv[1] == ExitReason.STOP_LOSS))
            price = ref_fill(OrderType.STOP, -p.side, level, o, h, lo)
            if not math.isnan(price):
                self.exit(price, False, v, t, reason)
                return True
        if not math.isnan(c.take_profit):
            price = ref_fill(OrderType.LIMIT, -p.side, p.price * (1 + p.side * c.take_profit), o, h, lo)
            if not math.isnan(price):
                self.exit(price, True, v, t, ExitReason.TAKE_PROFIT)
                return True
        return False

    def widen(self, h: float, lo: float) -> None:
        p = self.position
        assert p is not None
        p.lowest, p.highest = min(p.lowest, lo), max(p.highest, h)
        p.peak = max(p.peak, h) if p.side > 0 else min(p.peak, lo)


def reference_simulate(  # noqa: PLR0912, PLR0915 (mirrors the kernel's single loop)
    open_: FloatArray, high: FloatArray, low: FloatArray, close: FloatArray, volume: FloatArray,
    entry_long: BoolArray, exit_long: BoolArray, entry_short: BoolArray, exit_short: BoolArray,
    entry_level: FloatArray, volatility: FloatArray, day: IntArray, config: SimulationConfig, costs: Costs,
) -> tuple[FloatArray, FloatArray, FloatArray, int, FloatArray]:  # fmt: skip
    sim = ReferenceSimulator(config, costs, cash=config.initial_cash)
    n = len(close)
    limited = config.max_entries_per_day > 0 and len(day) == n
    entries_on: dict[int, int] = {}  # entries filled per day
    entries = hits = 0

    def enter(side: int, ref: float, maker: bool, v: float, vol: float, t: int) -> bool:
        nonlocal entries, hits
        if limited and entries_on.get(int(day[t]), 0) >= config.max_entries_per_day:
            hits += 1
            return False
        if not sim.enter(side, ref, maker, v, vol, t):
            return False
        entries += 1
        if limited:
            entries_on[int(day[t])] = entries_on.get(int(day[t]), 0) + 1
        return True

    equity, position = np.empty(n), np.empty(n)
    pending: dict[str, float] | None = None
    pending_exit = False
    for t in range(n):
        o, h, lo, c, v = (float(a[t]) for a in (open_, high, low, close, volume))
        if not (min(o, h, lo, c) > 0 and v >= 0 and all(math.isfinite(x) for x in (o, h, lo, c, v))):
            return np.empty((0, 12)), np.empty(0), np.empty(0), t, np.array([entries, hits], dtype=float)
        entered_intrabar = False
        if pending_exit and sim.position is not None:
            sim.exit(o, False, v, t, ExitReason.SIGNAL)
        pending_exit = False
        if pending is not None and t >= pending["first"]:
            side, kind = int(pending["side"]), int(pending["type"])
            if t > pending["last"] or sim.position is not None:
                pending = None
            elif kind == OrderType.MARKET:
                enter(side, o, False, v, pending["vol"], t)
                pending = None
            else:
                price = ref_fill(kind, side, pending["level"], o, h, lo)
                if not math.isnan(price):
                    entered_intrabar = enter(side, price, kind == OrderType.LIMIT, v, pending["vol"], t)
                    pending = None
        if sim.position is not None:
            if entered_intrabar:
                sim.widen(c, c)
            elif not sim.stops(o, h, lo, v, t):
                sim.widen(h, lo)
        held = 0 if sim.position is None else sim.position.side
        go_long = bool(entry_long[t]) and not exit_long[t]
        go_short = bool(entry_short[t]) and not exit_short[t]
        if go_long and go_short:
            go_long = go_short = False
        wants_exit = (held > 0 and (exit_long[t] or go_short)) or (held < 0 and (exit_short[t] or go_long))
        side = 1 if go_long and held <= 0 else (-1 if go_short and held >= 0 else 0)
        if pending is not None and (
            (pending["side"] > 0 and exit_long[t]) or (pending["side"] < 0 and exit_short[t])
        ):
            pending = None
        kind = config.entry_order_type
        if kind != OrderType.MARKET and math.isnan(entry_level[t]):
            kind = OrderType.MARKET
        if config.fill_on_close:
            if wants_exit:
                sim.exit(c, False, v, t, ExitReason.SIGNAL)
            if side != 0 and kind == OrderType.MARKET:
                enter(side, c, False, v, float(volatility[t]), t)
                side = 0
        else:
            pending_exit = bool(wants_exit)
        if side != 0:
            ttl = config.entry_ttl if kind != OrderType.MARKET else 1
            pending = {"side": side, "type": kind, "level": float(entry_level[t]),
                       "vol": float(volatility[t]),
                       "first": t + 1, "last": t + ttl}  # fmt: skip
        size = 0.0 if sim.position is None else sim.position.side * sim.position.size
        equity[t], position[t] = sim.cash + size * c, size
    if n and sim.position is not None:
        sim.record(float(close[-1]), 0.0, n - 1, ExitReason.END_OF_DATA)
    counters = np.array([entries, hits], dtype=float)
    return np.array(sim.trades, dtype=np.float64).reshape(-1, 12), equity, position, -1, counters
