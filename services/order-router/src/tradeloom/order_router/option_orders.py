"""Paper orders on option instruments, filled against market-data's synthetic option quotes.

- An option is held as an asset named by its symbol (``BTC/USDT:USDT-261225-65000-C``), not its
  underlying: a buy pays ask × quantity (+ the taker fee) in the quote asset and receives the
  option; a sell delivers held options and receives bid × quantity (− the fee).
- **No short options**: a sell of more than the free options held is refused (422 ``quantity``,
  rule ``option_short_refused``): there is no margin for written options here.
- Market and limit orders only. The quote of the order's side (ask for a buy, bid for a sell) is
  fetched at submission and kept as the order's ``reference_price`` (funds lock, risk check); right
  after acceptance the order fills in full at that price when it is a market order or its limit
  crosses it, else it is canceled (``option_quote_not_crossed``): no option quote moves on trades,
  so a resting option order would never fill (immediate-or-cancel semantics).
- Only a multiplier of 1 (the synthetic venue's options): another is refused (``symbol``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.domain.matching import Fill
from tradeloom.order_router.domain.validation import Problem
from tradeloom.order_router.ledger import FillSource, Ledger
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import Instrument
from tradeloom.shared.contracts.orders import OrderSubmit
from tradeloom.shared.rpc import RemoteError, ServiceClient

NOT_CROSSED = "option_quote_not_crossed"


def is_option(instrument: Instrument | None) -> bool:
    return instrument is not None and instrument.kind == "option"


def held_as_option(row: Any) -> bool:
    """An order or holding row of an option: an option is held as itself (its base asset is its
    own symbol, ``held_as_itself``)."""
    return bool(row.base_asset == row.symbol)


def held_as_itself(instrument: Instrument) -> Instrument:
    """The option with its own symbol as the base asset (what a fill credits and a sell locks)."""
    return instrument.model_copy(update={"base": instrument.symbol})


def option_problems(
    body: OrderSubmit, instrument: Instrument, free: dict[str, Decimal], quote: Decimal | None
) -> list[Problem]:
    problems: list[Problem] = []
    if body.type not in ("market", "limit"):
        problems.append(Problem("type", "option_order_type", "options take market and limit orders only"))
    problems += holding_problems(body, instrument, free)
    if quote is None and not problems:
        side = "ask" if body.side == "buy" else "bid"
        problems.append(
            Problem("side", "no_option_quote", f"no {side} is quoted for {instrument.symbol} now")
        )
    return problems


def holding_problems(body: OrderSubmit, instrument: Instrument, free: dict[str, Decimal]) -> list[Problem]:
    """What paper and exchange accounts both refuse on an option: a multiplier other than 1, and
    a sell of more than the options held (no short options)."""
    problems: list[Problem] = []
    if instrument.multiplier != 1:
        problems.append(
            Problem(
                "symbol",
                "option_multiplier",
                f"options with multiplier {instrument.multiplier} are not traded",
            )
        )
    held = free.get(instrument.symbol, Decimal(0))
    if body.side == "sell" and body.quantity > held:
        problems.append(
            Problem(
                "quantity", "option_short_refused",
                f"options are not sold short here (no margin): at most the {held.normalize():f} held",
            )
        )  # fmt: skip
    return problems


class OptionQuotes:
    """The side's price of one option from ``svc.market-data.option_quotes``."""

    def __init__(self, client: Callable[[], ServiceClient], timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s

    async def side_price(self, instrument: Instrument, side: str, caller: CallerContext) -> Decimal | None:
        body = {
            "underlying": f"{instrument.underlying}/{instrument.quote}",
            "venue": instrument.venue,
            "symbols": [instrument.symbol],
        }
        try:
            reply = await self.client().call_raw(
                "market-data", "option_quotes", body, caller=caller, timeout_s=self.timeout_s
            )
        except RemoteError as error:
            if error.code == "not_found":
                return None
            raise
        quotes = reply["quotes"]
        if not quotes:
            return None
        value = quotes[0]["ask" if side == "buy" else "bid"]
        return None if value is None else Decimal(value)


async def fill_against_quote(
    ledger: Ledger, conn: AsyncConnection, row: Row[Any], costs: AccountCosts
) -> Row[Any]:
    """Fill the just accepted option order in full at its quote, or cancel it (not crossed)."""
    quote = Decimal(row.reference_price)
    crosses = row.price is None or (quote <= row.price if row.side == "buy" else quote >= row.price)
    if not crosses:
        return await ledger.move(conn, row, (states.CANCELED,), {"reject_reason": NOT_CROSSED})
    quantity = Decimal(row.quantity)
    notional = quote * quantity
    fee = notional * costs.taker_rate
    fill = Fill(price=quote, quantity=quantity, fee=fee, liquidity="taker")
    source = FillSource(venue_fill_id=f"paper:{row.id}:quote", trade_id="option-quote", at=datetime.now(UTC))
    await ledger.record_fill(conn, row, fill, source)
    spent = notional + fee if row.side == "buy" else quantity
    fields = {
        "filled_quantity": quantity,
        "filled_notional": notional,
        "fees": fee,
        "locked": Decimal(row.locked) - spent,
        "accepted_ns": row.accepted_ns or time.time_ns(),
    }
    return await ledger.move(conn, row, (states.FILLED,), fields)
