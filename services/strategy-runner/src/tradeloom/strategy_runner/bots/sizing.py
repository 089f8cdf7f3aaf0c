"""How much a bot's entry buys: a fixed quantity, or a share of the account's free quote balance
(asked of order-router as the owner) rounded down to the instrument's lot (from market-data)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import InstrumentsReply, InstrumentsRequest
from tradeloom.shared.contracts.orders_accounts import AccountRef, BalancesReply
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.strategy_runner.domain.bot_decision import equity_size


class SizingUnavailable(Exception):
    """The balance or the instrument could not be read now: the bar is decided later."""


class Sizer:
    def __init__(self, client: Callable[[], ServiceClient], timeout_s: float) -> None:
        self._client = client
        self.timeout_s = timeout_s

    async def quantity(self, row: Row[Any], price: Decimal) -> Decimal:
        sizing = row.sizing
        if sizing["kind"] == "fixed":
            return Decimal(sizing["quantity"])
        try:
            listed = await self._client().call(
                "market-data", "instruments", InstrumentsRequest(venue=row.venue), InstrumentsReply,
                timeout_s=self.timeout_s,
            )  # fmt: skip
            balances = await self._client().call(
                "order-router", "accounts_balances", AccountRef(account_id=row.account_id), BalancesReply,
                caller=CallerContext(user_id=row.user_id), timeout_s=self.timeout_s,
            )  # fmt: skip
        except (RemoteError, Unavailable) as error:
            raise SizingUnavailable(str(error)) from error
        instrument = next((i for i in listed.instruments if i.symbol == row.symbol), None)
        if instrument is None:
            return Decimal(0)  # not listed: nothing to buy (logged as a hold)
        free = next((b.free for b in balances.balances if b.asset == instrument.quote), Decimal(0))
        return equity_size(free, Decimal(sizing["percent"]), price, instrument.lot_size)
