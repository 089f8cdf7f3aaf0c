"""Bots, exposure per asset and venue, the long/short ratio, equity and leverage (pure).

A bot's orders carry its id in their client order id: strategy-runner writes
``bot-<bot uuid as 32 hex digits>-<bar>``; the rule lives in ``tradeloom.shared.bot_orders``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from tradeloom.shared.bot_orders import bot_of_client_order_id as shared_bot_of

ZERO = Decimal(0)
RATIO_PLACES = Decimal("1e-8")


def bot_of_client_order_id(client_order_id: str) -> str:
    """The bot id (canonical uuid) of a bot's order; '' for any other order (the positions key)."""
    return shared_bot_of(client_order_id) or ""


def base_asset(symbol: str) -> str:
    """``BTC/USDT`` → ``BTC`` (a symbol without a slash is its own asset)."""
    return symbol.split("/", 1)[0]


@dataclass(frozen=True)
class Holding:
    """One position row, valued at the mark (its average entry when no price is known)."""

    symbol: str
    venue: str
    quantity: Decimal
    price: Decimal
    position_side: str = ""  # hedge mode: 'long' or 'short', a position of its own

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price


@dataclass
class Split:
    gross: Decimal = ZERO
    net: Decimal = ZERO


@dataclass
class ExposureSummary:
    per_symbol: dict[str, Decimal] = field(default_factory=dict)  # net per symbol
    per_position: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # net per (symbol, side)
    per_asset: dict[str, Split] = field(default_factory=dict)
    per_venue: dict[str, Split] = field(default_factory=dict)
    long: Decimal = ZERO
    short: Decimal = ZERO

    @property
    def gross(self) -> Decimal:
        return sum((abs(value) for value in self.per_position.values()), ZERO)

    @property
    def net(self) -> Decimal:
        return sum(self.per_symbol.values(), ZERO)

    @property
    def long_short_ratio(self) -> Decimal | None:
        """Long notional over short notional; None without shorts."""
        return None if self.short == 0 else (self.long / self.short).quantize(RATIO_PLACES)


def summarise(holdings: Iterable[Holding]) -> ExposureSummary:
    """Positions of several bots in one symbol net out first: gross is ``Σ |net per symbol|``, and an
    asset's or venue's gross sums the absolute net of its symbols. In hedge mode the long and the
    short of one symbol are two positions: gross adds both, net (``per_symbol``) nets them."""
    summary = ExposureSummary()
    venue_of: dict[str, str] = {}
    for holding in holdings:
        position = (holding.symbol, holding.position_side)
        summary.per_position[position] = summary.per_position.get(position, ZERO) + holding.notional
        summary.per_symbol[holding.symbol] = summary.per_symbol.get(holding.symbol, ZERO) + holding.notional
        if holding.venue:
            venue_of[holding.symbol] = holding.venue
    for (symbol, _side), net in summary.per_position.items():
        for name, table in (
            (base_asset(symbol), summary.per_asset),
            (venue_of.get(symbol, ""), summary.per_venue),
        ):
            split = table.setdefault(name, Split())
            split.gross += abs(net)
            split.net += net
        if net > 0:
            summary.long += net
        else:
            summary.short -= net
    return summary


@dataclass(frozen=True)
class Valued:
    asset: str
    total: Decimal
    price: Decimal | None  # in the valuation asset; None: no price known
    value: Decimal | None


def value_balances(
    balances: Mapping[str, Decimal], valuation: str, prices: Mapping[str, Decimal]
) -> tuple[list[Valued], Decimal]:
    """Each balance at its mark (``prices`` by symbol ``<asset>/<valuation>``) and the equity: the sum
    of those with a price (the valuation asset counts at 1)."""
    valued: list[Valued] = []
    for asset, total in sorted(balances.items()):
        price = Decimal(1) if asset == valuation else prices.get(f"{asset}/{valuation}")
        valued.append(Valued(asset, total, price, None if price is None else total * price))
    return valued, sum((item.value for item in valued if item.value is not None), ZERO)


def leverage(gross: Decimal, equity: Decimal) -> Decimal | None:
    """Gross exposure over equity; None when the equity is not positive."""
    return None if equity <= 0 else (gross / equity).quantize(RATIO_PLACES)
