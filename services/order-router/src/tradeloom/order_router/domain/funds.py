"""Locking and settling funds in Decimal, and an account's costs as ``tradeloom.quant`` sees them.

A buy locks quote (price × quantity plus the highest fee it can pay; market-priced buys add a
buffer over the reference price), a sell locks the base quantity. A fill spends from the lock;
a finished order returns what is left of its lock to the free balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from tradeloom.quant.fills import CommissionModel, Costs, SlippageModel
from tradeloom.shared.contracts.orders import OrderSubmit

PRICE_QUANTUM = Decimal("1e-12")
SLIPPAGE_CODES = {"none": SlippageModel.NONE, "fixed": SlippageModel.FIXED, "percent": SlippageModel.PERCENT}


@dataclass(frozen=True)
class AccountCosts:
    """Fee rates and slippage of one paper account."""

    maker_rate: Decimal
    taker_rate: Decimal
    slippage_model: str = "none"
    slippage: Decimal = Decimal(0)

    def quant(self) -> Costs:
        """The same settings as the backtest simulator's ``Costs`` (percent commission)."""
        return Costs(
            slippage_model=int(SLIPPAGE_CODES[self.slippage_model]),
            slippage=float(self.slippage),
            commission_model=int(CommissionModel.PERCENT),
            maker_rate=float(self.maker_rate),
            taker_rate=float(self.taker_rate),
        )

    def worst_price(self, price: Decimal, side: str) -> Decimal:
        """``price`` after the account's slippage against ``side`` (for locking, in Decimal)."""
        if self.slippage_model == "fixed":
            slip = self.slippage
        elif self.slippage_model == "percent":
            slip = price * self.slippage
        else:
            slip = Decimal(0)
        return price + slip if side == "buy" else price - slip


def to_decimal(value: float) -> Decimal:
    """A float result of a quant kernel as Decimal, rounded to 12 places (float noise removed)."""
    return Decimal(repr(value)).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)


def required_lock(
    order: OrderSubmit, last_price: Decimal | None, costs: AccountCosts, market_buffer: Decimal
) -> Decimal:
    """What ``order`` must hold while it is open: base quantity for sells, quote for buys."""
    if order.side == "sell":
        return order.quantity
    max_rate = max(costs.maker_rate, costs.taker_rate)
    if order.price is not None:  # limit, stop-limit, take-profit-limit: never pays above its price
        return order.quantity * order.price * (1 + max_rate)
    reference = max(p for p in (last_price, order.stop_price, Decimal(0)) if p is not None)
    if order.type == "trailing_stop" and order.trailing_amount is not None:
        reference += order.trailing_amount
    elif order.type == "trailing_stop" and order.trailing_percent is not None:
        reference *= 1 + order.trailing_percent / 100
    worst = costs.worst_price(reference * (1 + market_buffer), "buy")
    return order.quantity * worst * (1 + costs.taker_rate)


@dataclass(frozen=True)
class Settlement:
    """Balance changes of one fill (positive adds): ``lock_spent`` comes out of the order's lock."""

    lock_spent: Decimal
    base_free: Decimal
    quote_free: Decimal


def settle_fill(side: str, price: Decimal, quantity: Decimal, fee: Decimal) -> Settlement:
    """A buy spends quote (notional + fee) from its lock and receives base; a sell spends base
    from its lock and receives the notional less the fee."""
    notional = price * quantity
    if side == "buy":
        return Settlement(lock_spent=notional + fee, base_free=quantity, quote_free=Decimal(0))
    return Settlement(lock_spent=quantity, base_free=Decimal(0), quote_free=notional - fee)


def affordable(locked: Decimal, price: Decimal, rate: Decimal, lot: Decimal) -> Decimal:
    """The largest lot multiple a buy can pay at ``price`` with fee ``rate`` out of ``locked``."""
    if price <= 0:
        return Decimal(0)
    units = locked / (price * (1 + rate))
    return (units // lot) * lot
