"""The positions a flatten closes, gathered from the account's fills, perp positions and balances.

Spot: the fill fold per symbol (an option is held as an asset named by its symbol, so its fold is
the options bought minus sold). Perpetuals: the ``perp_positions`` rows. Each with its price (the
last trade; the bid for an option, from market-data's option quotes) and the venue's minimum
notional (market-data's registry; when it does not answer the close is sent unchecked and the
venue decides, rather than leaving the position open).

An exchange account's positions are priced by its venue (``VenuePrice``, from ``venue_flatten``):
a perpetual at the venue's mark (our last trade when the venue has none), an option at the best bid
of the venue's own order book, floored to the option's tick (market-data's synthetic quotes price
paper options only). No bid: left open, ``no_option_quote``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain.flatten_plan import Holding
from tradeloom.order_router.instruments import InstrumentDirectory
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.option_orders import OptionQuotes, held_as_itself, held_as_option
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import Instrument

log = logging.getLogger(__name__)

VenuePrice = Callable[[str, str], Awaitable[Decimal | None]]
"""``(kind, symbol)`` → the venue's own price: ``perp`` the mark, ``option`` the best bid (``None``:
the venue has none). A venue that does not answer raises: the flatten is tried again next pass."""


def on_tick(price: Decimal | None, tick: Decimal | None) -> Decimal | None:
    """``price`` floored to ``tick`` (a sell there stays marketable); ``None`` when nothing above
    zero is left (a bid under one tick is no price to sell at)."""
    if price is None or tick is None:
        return price
    floored = (price / tick).to_integral_value(rounding=ROUND_DOWN) * tick
    return floored if floored > 0 else None


@dataclass(frozen=True)
class Held:
    """A holding and what its close order stores: its row (venue, assets, lot; perps: contract
    size, settle asset and leverage)."""

    holding: Holding
    row: Row[Any]


class HoldingsReader:
    def __init__(
        self, ledger: Ledger, instruments: InstrumentDirectory | None, options: OptionQuotes | None
    ) -> None:
        self.ledger = ledger
        self.instruments = instruments
        self.options = options

    async def read(
        self,
        conn: AsyncConnection,
        account: Row[Any],
        free: dict[str, Decimal],
        venue_price: VenuePrice | None = None,
    ) -> list[Held]:
        held: list[Held] = []
        for row in await self.ledger.flattens.held(conn, account.id):
            instrument = await self._instrument(row.venue, row.symbol)
            if held_as_option(row):
                if account.kind == "paper":
                    bid = await self._bid(account, instrument)
                else:
                    tick = Decimal(instrument.tick_size) if instrument else None
                    bid = on_tick(await venue_price("option", row.symbol), tick) if venue_price else None
                holding = Holding(row.symbol, "option", Decimal(row.net), Decimal(row.lot_size),
                                  free=free.get(row.symbol, Decimal(0)), price=bid)  # fmt: skip
            else:
                holding = Holding(
                    row.symbol,
                    "spot",
                    Decimal(row.net),
                    Decimal(row.lot_size),
                    free=free.get(row.base_asset, Decimal(0)),
                    price=await self.ledger.orders.last_price(conn, row.venue, row.symbol),
                    min_notional=instrument.min_notional if instrument else None,
                )
            held.append(Held(holding, row))
        for row in await self.ledger.flattens.perps_held(conn, account.id):
            mark = await venue_price("perp", row.symbol) if venue_price and account.kind != "paper" else None
            holding = Holding(
                row.symbol,
                "perp",
                Decimal(row.net),
                Decimal(row.lot_size),
                price=mark
                if mark is not None
                else await self.ledger.orders.last_price(conn, row.venue, row.symbol),
                contract_size=Decimal(row.contract_size),
            )
            held.append(Held(holding, row))
        return held

    async def _instrument(self, venue: str, symbol: str) -> Instrument | None:
        if self.instruments is None:
            return None
        try:
            return await self.instruments.get(venue, symbol)
        except Exception as error:  # market-data away: the close goes unchecked (see the docstring)
            log.warning("flatten: no instrument for %s %s: %r", venue, symbol, error)
            return None

    async def _bid(self, account: Row[Any], instrument: Instrument | None) -> Decimal | None:
        """The option's bid now, or ``None`` (no quote, or market-data not answering)."""
        if self.options is None or instrument is None:
            return None
        try:
            caller = CallerContext(user_id=account.user_id)
            return await self.options.side_price(held_as_itself(instrument), "sell", caller)
        except Exception as error:  # reported as left open (``no_option_quote``), never retried blind
            log.warning("flatten: no bid for %s: %r", instrument.symbol, error)
            return None
