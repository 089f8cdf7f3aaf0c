"""What a grid bot is checked against and started at: the instrument's tick and lot
(market-data), the last trade's price (market-data) and the account's free quote (order-router,
asked as the owner, so another user's account is not found)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import (
    InstrumentsReply,
    InstrumentsRequest,
    LatestPriceReply,
    SymbolRequest,
)
from tradeloom.shared.contracts.orders_accounts import AccountRef, BalancesReply
from tradeloom.shared.errors import NotFound, field_invalid
from tradeloom.shared.rpc import RemoteError, ServiceClient


@dataclass(frozen=True)
class GridMarket:
    tick: Decimal
    lot_size: Decimal
    price: Decimal
    free_quote: Decimal


class GridMarketSource:
    def __init__(self, client: Callable[[], ServiceClient], timeout_s: float) -> None:
        self._client = client
        self.timeout_s = timeout_s

    async def price(self, venue: str, symbol: str) -> Decimal:
        """The last trade's price; 422 naming ``symbol`` when it has none yet."""
        try:
            latest = await self._client().call(
                "market-data", "latest_price", SymbolRequest(symbol=symbol, venue=venue), LatestPriceReply,
                timeout_s=self.timeout_s,
            )  # fmt: skip
        except RemoteError as error:
            if error.code == "not_found":
                raise field_invalid("symbol", f"{symbol} has no trade on {venue} yet: no price") from None
            raise
        return latest.price

    async def market(self, caller: CallerContext, account_id: str, venue: str, symbol: str) -> GridMarket:
        listed = await self._client().call(
            "market-data", "instruments", InstrumentsRequest(venue=venue), InstrumentsReply,
            timeout_s=self.timeout_s,
        )  # fmt: skip
        instrument = next((i for i in listed.instruments if i.symbol == symbol), None)
        if instrument is None:
            raise field_invalid("symbol", f"{symbol} is not listed on {venue}")
        try:
            balances = await self._client().call(
                "order-router", "accounts_balances", AccountRef(account_id=account_id), BalancesReply,
                caller=caller, timeout_s=self.timeout_s,
            )  # fmt: skip
        except RemoteError as error:
            if error.code == "not_found":
                raise NotFound(
                    f"no account {account_id}",
                    details={"fields": [{"field": "account_id", "message": "not found"}]},
                ) from None
            raise
        free = next((b.free for b in balances.balances if b.asset == instrument.quote), Decimal(0))
        price = await self.price(venue, symbol)
        return GridMarket(instrument.tick_size, instrument.lot_size, price, free)
