"""Linear perpetuals (pure): contract size, leverage, margin and the isolated liquidation price.

A perpetual's symbol names its settle asset (``BTC/USDT:USDT``, ccxt's unified form). Fills on it
count contracts; the fold works in base units, ``contracts × contract_size`` (market-data's
instrument ``multiplier``; 1 on the synthetic venue), so notional, PnL and exposure need no
special case. What a perpetual adds is margin:

- initial margin used = ``|quantity| × mark / leverage`` (entry when no mark), the same for isolated
  and cross; the account's free margin is its equity minus the margin of every perpetual;
- isolated liquidation price, where the position's margin plus its unrealised PnL falls to the
  maintenance margin ``mmr × |quantity| × price``, with margin ``|quantity| × entry / leverage``:

  long:  ``entry × (1 − 1/leverage) / (1 − mmr)``
  short: ``entry × (1 + 1/leverage) / (1 + mmr)``

  (Binance's USDⓈ-M formula for a single isolated position with maintenance amount 0, fees and
  funding ignored: an estimate) with one flat rate; with a bracket table the rate and the
  maintenance amount are the bracket's at the liquidation price (``tradeloom.quant.margin``). A
  cross position's liquidation depends on the whole account: ``domain.margin`` computes it for the
  equity overview; here it is null.

The maintenance margin is data per symbol: a bracket table (setting ``PERP_MAINTENANCE_BRACKETS``),
else one flat rate (``PERP_MAINTENANCE_MARGIN_RATES``), else ``quant.margin.DEFAULT_BRACKETS`` (the
synthetic venue's tiers, from 0.5 %). ``PerpTerms`` built without brackets keeps its flat rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Literal

from tradeloom.quant.margin import DEFAULT_BRACKETS, Brackets, flat_brackets
from tradeloom.quant.margin import liquidation_price as tiered_liquidation_price
from tradeloom.risk_monitor.domain.option_limits import underlying_of
from tradeloom.risk_monitor.domain.positions import CONTEXT, PLACES

MarginMode = Literal["isolated", "cross"]
ZERO = Decimal(0)
ONE = Decimal(1)
MAX_LEVERAGE = Decimal(125)
DEFAULT_LEVERAGE = Decimal(1)
DEFAULT_MAINTENANCE_MARGIN_RATE = Decimal("0.005")


def is_perpetual(symbol: str) -> bool:
    """``BTC/USDT:USDT`` (a settle asset after the colon) is a perpetual; ``BTC/USDT`` is spot, and
    ``BTC/USDT:USDT-271206-65000-C`` (an expiry, strike and right after it) an option."""
    return ":" in symbol and underlying_of(symbol) is None


def contract_size(symbol: str, sizes: Mapping[str, Decimal]) -> Decimal:
    """Base units per contract: the configured size, else 1 (spot symbols are always 1)."""
    return sizes.get(symbol, ONE) if is_perpetual(symbol) else ONE


def contracts_of(quantity: Decimal, size: Decimal) -> Decimal:
    """Base units back to contracts, at the fold's 18 places."""
    return _round(CONTEXT.divide(quantity, size))


def check_leverage(leverage: Decimal) -> str | None:
    """The error for a leverage outside ``1..MAX_LEVERAGE``; None when valid."""
    if not ONE <= leverage <= MAX_LEVERAGE:
        return f"leverage must be between 1 and {MAX_LEVERAGE}"
    return None


@dataclass(frozen=True)
class PerpTerms:
    """One account's settings for one perpetual, and the symbol's maintenance-margin rate."""

    leverage: Decimal = DEFAULT_LEVERAGE
    margin_mode: MarginMode = "cross"
    maintenance_margin_rate: Decimal = DEFAULT_MAINTENANCE_MARGIN_RATE
    brackets: Brackets | None = None  # None: one flat bracket at maintenance_margin_rate

    @property
    def tiers(self) -> Brackets:
        return self.brackets if self.brackets is not None else flat_brackets(self.maintenance_margin_rate)


@dataclass(frozen=True)
class PerpConfig:
    """The deployment's data per perpetual: contract sizes and maintenance-margin tiers."""

    contract_sizes: Mapping[str, Decimal] = field(default_factory=dict)
    maintenance_margin_rates: Mapping[str, Decimal] = field(default_factory=dict)
    maintenance_brackets: Mapping[str, Brackets] = field(default_factory=dict)

    def size(self, symbol: str) -> Decimal:
        return contract_size(symbol, self.contract_sizes)

    def mmr(self, symbol: str) -> Decimal:
        """The first tier's rate (the whole rate for a flat symbol)."""
        return self.brackets(symbol)[0].rate

    def brackets(self, symbol: str) -> Brackets:
        if symbol in self.maintenance_brackets:
            return self.maintenance_brackets[symbol]
        if symbol in self.maintenance_margin_rates:
            return flat_brackets(self.maintenance_margin_rates[symbol])
        return DEFAULT_BRACKETS

    def terms(self, symbol: str, leverage: Decimal, margin_mode: MarginMode) -> PerpTerms:
        return PerpTerms(leverage, margin_mode, self.mmr(symbol), self.brackets(symbol))


@dataclass(frozen=True)
class PerpMargin:
    notional: Decimal  # |quantity| × mark (entry without a mark)
    margin_used: Decimal
    liquidation_price: Decimal | None


def _round(value: Decimal) -> Decimal:
    return value.quantize(PLACES, context=CONTEXT)


def liquidation_price(quantity: Decimal, entry: Decimal, leverage: Decimal, mmr: Decimal) -> Decimal | None:
    """The isolated position's estimated liquidation price (None when flat; 0 when it cannot be
    liquidated, a long at 1× leverage)."""
    if quantity == 0:
        return None
    inverse = CONTEXT.divide(ONE, leverage)
    if quantity > 0:
        price = CONTEXT.divide(CONTEXT.multiply(entry, ONE - inverse), ONE - mmr)
    else:
        price = CONTEXT.divide(CONTEXT.multiply(entry, ONE + inverse), ONE + mmr)
    return max(_round(price), ZERO)


def perp_margin(quantity: Decimal, entry: Decimal, mark: Decimal | None, terms: PerpTerms) -> PerpMargin:
    """Margin used and, for an isolated position, the liquidation price estimate (its collateral
    the margin ``|quantity| × entry / leverage``, its tiers ``terms.tiers``)."""
    notional = _round(abs(quantity) * (entry if mark is None else mark))
    liquidation = None
    if terms.margin_mode == "isolated" and quantity != 0:
        with localcontext(CONTEXT):
            collateral = abs(quantity) * entry / terms.leverage
            price = tiered_liquidation_price(quantity, entry, collateral, terms.tiers)
        liquidation = None if price is None else _round(price)
    return PerpMargin(notional, _round(CONTEXT.divide(notional, terms.leverage)), liquidation)


def margin_refusal(
    order_notional: Decimal, leverage: Decimal, margin_used: Decimal, equity: Decimal
) -> str | None:
    """``perp_margin`` when a perpetual entry's initial margin (notional / leverage) exceeds the
    free margin (equity − the margin of every perpetual held); None when it fits."""
    needed = CONTEXT.divide(order_notional, leverage)
    free = equity - margin_used
    if needed <= free:
        return None
    return f"perp_margin: order margin {_plain(needed)} > free margin {_plain(free)}"


def _plain(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.0001"), context=CONTEXT).normalize(), "f")


@dataclass(frozen=True)
class PerpEquity:
    equity: Decimal
    perp_pnl: Decimal
    margin_used: Decimal
    margin_free: Decimal


def perp_equity(balances_value: Decimal, positions: Sequence[tuple[Decimal, Decimal]]) -> PerpEquity:
    """The account's equity with its perpetuals: ``positions`` as (realised − fees + unrealised PnL,
    margin used) each; order-router's balances do not carry perpetual PnL. Floored at 0 (a loss
    beyond the balances is the venue's liquidation, not a negative equity)."""
    pnl = _round(sum((item[0] for item in positions), ZERO))
    used = _round(sum((item[1] for item in positions), ZERO))
    equity = max(balances_value + pnl, ZERO)
    return PerpEquity(equity, pnl, used, equity - used)
