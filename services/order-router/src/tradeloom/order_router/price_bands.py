"""The limit price band of an instrument: market-data's registry (``price_band_pct``) first, the
``PRICE_BANDS`` setting (per venue) only where the registry gives none."""

from __future__ import annotations

from decimal import Decimal

from tradeloom.order_router.instruments import InstrumentDirectory
from tradeloom.shared.contracts.market_data import Instrument


class PriceBands:
    def __init__(self, instruments: InstrumentDirectory, defaults: dict[str, Decimal]) -> None:
        self.instruments = instruments
        self.defaults = defaults

    def of(self, venue: str, instrument: Instrument | None) -> Decimal | None:
        """The band as a fraction of the last price either side, or ``None`` (no band)."""
        if instrument is not None and instrument.price_band_pct is not None:
            return instrument.price_band_pct / 100
        return self.defaults.get(venue)

    async def lookup(self, venue: str, symbol: str) -> Decimal | None:
        """The band of ``symbol`` on ``venue`` (the registry is cached by the directory)."""
        return self.of(venue, await self.instruments.get(venue, symbol))
