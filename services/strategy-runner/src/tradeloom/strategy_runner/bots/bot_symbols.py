"""Which symbols a new bot trades: ``symbol`` (old clients), ``symbols``, or both agreeing.

The rule: exactly one of the two, or both with ``symbol`` the first of ``symbols`` (a bot's
``symbol`` is its first one). Anything else is a 422 naming the field. The shape of ``symbols``
(1-20, unique, 3-64 characters each) is the contract's. A list of symbols is checked against
market-data's registry (``instruments`` of the venue): an unlisted one is a 422 on
``symbols.<index>``.
"""

from __future__ import annotations

from collections.abc import Callable

from tradeloom.shared.contracts.bots import BotCreate
from tradeloom.shared.contracts.market_data import InstrumentsReply, InstrumentsRequest
from tradeloom.shared.errors import field_invalid
from tradeloom.shared.rpc import ServiceClient


def requested_symbols(body: BotCreate) -> list[str]:
    """The bot's symbols, the first first; 422 naming ``symbol`` or ``symbols`` otherwise."""
    if body.symbols is None:
        if body.symbol is None:
            raise field_invalid("symbol", "give symbol or symbols")
        return [body.symbol]
    if body.symbol is not None and body.symbol != body.symbols[0]:
        raise field_invalid(
            "symbol", f"{body.symbol} is not the first of symbols ({body.symbols[0]}): give one of the two"
        )
    return list(body.symbols)


async def check_listed(
    client: Callable[[], ServiceClient], venue: str, symbols: list[str], timeout_s: float
) -> None:
    """Every symbol listed on ``venue`` by market-data; 422 on ``symbols.<index>`` otherwise."""
    listed = await client().call(
        "market-data", "instruments", InstrumentsRequest(venue=venue), InstrumentsReply, timeout_s=timeout_s
    )
    known = {instrument.symbol for instrument in listed.instruments}
    for index, symbol in enumerate(symbols):
        if symbol not in known:
            raise field_invalid(f"symbols.{index}", f"{symbol} is not listed on {venue}")
