"""Pre-trade validation of a new order: one problem per field and rule, nothing stored before.

The checks run in order and all problems are reported together, except that grid, notional and
funds checks need a known, active instrument and well-formed type fields first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tradeloom.order_router.domain.funds import AccountCosts, required_lock
from tradeloom.order_router.domain.perps import PerpTerms
from tradeloom.shared.contracts.market_data import Instrument
from tradeloom.shared.contracts.orders import OrderSubmit

LIMIT_TYPES = frozenset({"limit", "stop_limit", "take_profit_limit"})
STOP_TYPES = frozenset({"stop_market", "stop_limit", "take_profit_market", "take_profit_limit"})
CONDITIONAL_TYPES = STOP_TYPES | {"trailing_stop"}


@dataclass(frozen=True)
class Problem:
    """One broken rule: ``field`` of the request, a stable ``rule`` code and a message."""

    field: str
    rule: str
    message: str

    def as_detail(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


def _on_grid(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


def _shape_problems(order: OrderSubmit, now: datetime) -> list[Problem]:
    """Fields that the order type, time in force and flags require or refuse."""
    problems: list[Problem] = []

    def need(field: str, present: bool, wanted: bool, why: str) -> None:
        if wanted and not present:
            problems.append(Problem(field, "required", f"required {why}"))
        elif present and not wanted:
            problems.append(Problem(field, "not_allowed", f"not allowed {why}"))

    kind = f"for a {order.type} order"
    need("price", order.price is not None, order.type in LIMIT_TYPES, kind)
    need("stop_price", order.stop_price is not None, order.type in STOP_TYPES, kind)
    trailing = order.type == "trailing_stop"
    if trailing and (order.trailing_amount is None) == (order.trailing_percent is None):
        problems.append(Problem("trailing_amount", "one_of", "give trailing_amount or trailing_percent"))
    if not trailing:
        need("trailing_amount", order.trailing_amount is not None, False, kind)
        need("trailing_percent", order.trailing_percent is not None, False, kind)
    need(
        "expire_at", order.expire_at is not None, order.time_in_force == "gtd", "with time_in_force gtd only"
    )
    if order.expire_at is not None and order.time_in_force == "gtd" and order.expire_at <= now:
        problems.append(Problem("expire_at", "in_past", "must be in the future"))
    if order.time_in_force in ("ioc", "fok") and order.type in CONDITIONAL_TYPES:
        problems.append(Problem("time_in_force", "not_allowed", f"{order.time_in_force} for a {order.type}"))
    if order.post_only and (order.type != "limit" or order.time_in_force in ("ioc", "fok")):
        problems.append(Problem("post_only", "not_allowed", "only for gtc or gtd limit orders"))
    if is_bracket(order):
        problems += _bracket_shape(order)
    return problems


def trailing_leg(order: OrderSubmit) -> bool:
    """The bracket's stop leg is a trailing stop (``trailing_stop_percent`` or ``_amount``)."""
    return order.trailing_stop_percent is not None or order.trailing_stop_amount is not None


def is_bracket(order: OrderSubmit) -> bool:
    """Any bracket field given: a stop leg (a price or a trailing stop) or a take-profit."""
    return order.stop_loss_price is not None or order.take_profit_price is not None or trailing_leg(order)


def _bracket_shape(order: OrderSubmit) -> list[Problem]:
    """A bracket on spot: a buy entry (market or limit) with both exits, the stop leg either a
    ``stop_loss_price`` or a trailing stop (one of its distances); the exits sell what it bought."""
    field = "stop_loss_price" if order.stop_loss_price is not None else "take_profit_price"
    if order.take_profit_price is None and trailing_leg(order):
        field = "trailing_stop_percent" if order.trailing_stop_percent is not None else "trailing_stop_amount"
    if order.side != "buy" or order.type not in ("market", "limit"):
        return [Problem(field, "not_allowed", "a bracket needs a market or limit buy entry on spot")]
    if order.trailing_stop_percent is not None and order.trailing_stop_amount is not None:
        return [
            Problem("trailing_stop_amount", "one_of", "give trailing_stop_percent or trailing_stop_amount")
        ]
    if order.stop_loss_price is not None and trailing_leg(order):
        trail = "trailing_stop_percent" if order.trailing_stop_percent is not None else "trailing_stop_amount"
        return [Problem(trail, "not_allowed", "a bracket's stop leg is stop_loss_price or a trailing stop")]
    if order.take_profit_price is None or not (order.stop_loss_price is not None or trailing_leg(order)):
        missing = "take_profit_price" if order.take_profit_price is None else "stop_loss_price"
        return [Problem(missing, "required", "a bracket needs both exits")]
    if order.time_in_force in ("ioc", "fok"):
        return [Problem(field, "not_allowed", f"a bracket with time_in_force {order.time_in_force}")]
    return []


def _bracket_levels(order: OrderSubmit, entry: Decimal, tick: Decimal) -> list[Problem]:
    """Exits on the tick grid, the stop below the entry price, the take-profit above it."""
    problems = []
    for field, value in (
        ("stop_loss_price", order.stop_loss_price),
        ("take_profit_price", order.take_profit_price),
    ):
        if value is not None and not _on_grid(value, tick):
            problems.append(Problem(field, "off_tick", f"not a multiple of the tick size {tick}"))
    if order.stop_loss_price is not None and order.stop_loss_price >= entry:
        problems.append(
            Problem("stop_loss_price", "not_below_entry", f"must be below the entry price {entry}")
        )
    if order.take_profit_price is not None and order.take_profit_price <= entry:
        problems.append(
            Problem("take_profit_price", "not_above_entry", f"must be above the entry price {entry}")
        )
    amount = order.trailing_stop_amount
    if amount is not None and not _on_grid(amount, tick):
        problems.append(
            Problem("trailing_stop_amount", "off_tick", f"not a multiple of the tick size {tick}")
        )
    elif amount is not None and amount >= entry:
        problems.append(
            Problem("trailing_stop_amount", "not_below_entry", f"must be below the entry price {entry}")
        )
    return problems


def _instrument_problems(order: OrderSubmit, instrument: Instrument | None, perp: bool) -> list[Problem]:
    if instrument is None:
        return [Problem("symbol", "unknown_symbol", f"{order.symbol} is not listed on this venue")]
    if instrument.status != "active":
        return [Problem("symbol", "not_trading", f"{order.symbol} is not trading")]
    paper_option = instrument.kind == "option" and instrument.base == instrument.symbol  # option_orders.py
    if instrument.kind != ("perpetual" if perp else "spot") and not paper_option:
        return [Problem("symbol", "unsupported_kind", f"{instrument.kind} instruments are not supported yet")]
    return []


def _grid_problems(order: OrderSubmit, instrument: Instrument) -> list[Problem]:
    problems: list[Problem] = []
    if order.quantity < instrument.lot_size:
        problems.append(Problem("quantity", "below_min_quantity", f"below the minimum {instrument.lot_size}"))
    elif not _on_grid(order.quantity, instrument.lot_size):
        problems.append(
            Problem("quantity", "off_lot", f"not a multiple of the lot size {instrument.lot_size}")
        )
    for field, value in (("price", order.price), ("stop_price", order.stop_price)):
        if value is not None and not _on_grid(value, instrument.tick_size):
            problems.append(
                Problem(field, "off_tick", f"not a multiple of the tick size {instrument.tick_size}")
            )
    if order.trailing_amount is not None and not _on_grid(order.trailing_amount, instrument.tick_size):
        problems.append(
            Problem("trailing_amount", "off_tick", f"not a multiple of the tick size {instrument.tick_size}")
        )
    return problems


def band_problems(price: Decimal | None, last_price: Decimal | None, band: Decimal | None) -> list[Problem]:
    """A limit ``price`` inside ``last price × (1 ± band)``, like a venue's percent-price filter;
    nothing to check without a band or a last price (submit and amend)."""
    if band is None or last_price is None or price is None:
        return []
    low, high = last_price * (1 - band), last_price * (1 + band)
    if low <= price <= high:
        return []
    message = (
        f"outside the venue's price band [{low.normalize():f}, {high.normalize():f}] "
        f"(last price {last_price.normalize():f} ± {(band * 100).normalize():f}%)"
    )
    return [Problem("price", "outside_price_band", message)]


def validate_order(
    order: OrderSubmit,
    instrument: Instrument | None,
    *,
    last_price: Decimal | None,
    free: dict[str, Decimal],
    costs: AccountCosts,
    market_buffer: Decimal,
    now: datetime,
    price_band: Decimal | None = None,
    perp: PerpTerms | None = None,
) -> tuple[list[Problem], Decimal]:
    """Every problem of ``order`` and, when there are none, the amount to lock (of the quote
    asset for buys, the base asset for sells). ``price_band``: the venue's limit price band, a
    fraction of the last price either side (``None``: the venue has none). ``perp``: the terms of
    a paper perpetual (the lock is margin in the settle asset, notional counts the contract size)."""
    problems = _shape_problems(order, now) + _instrument_problems(order, instrument, perp is not None)
    if problems or instrument is None:
        return problems, Decimal(0)
    problems = _grid_problems(order, instrument)
    reference = order.price or order.stop_price or last_price
    if reference is None:
        return [
            *problems,
            Problem("symbol", "no_market_price", "no trade seen yet to price this order"),
        ], Decimal(0)
    problems += _bracket_levels(order, reference, instrument.tick_size)
    if order.quantity * reference * (perp.contract_size if perp else 1) < instrument.min_notional:
        problems.append(
            Problem("quantity", "below_min_notional", f"notional below the minimum {instrument.min_notional}")
        )
    problems += band_problems(order.price, last_price, price_band)
    if order.post_only and last_price is not None and order.price is not None:
        crosses = order.price >= last_price if order.side == "buy" else order.price <= last_price
        if crosses:
            problems.append(Problem("price", "would_take", "a post-only order must not cross the last price"))
    if problems:
        return problems, Decimal(0)
    if perp is not None:
        lock, asset = perp.lock(order, last_price, costs, market_buffer), perp.settle
    else:
        lock = required_lock(order, last_price, costs, market_buffer)
        asset = instrument.quote if order.side == "buy" else instrument.base
    available = free.get(asset, Decimal(0))
    if lock > available:
        problems.append(
            Problem("quantity", "insufficient_funds", f"needs {lock} {asset}, {available} {asset} is free")
        )
    return problems, lock
