"""One chain page's listing with its quotes from market-data's ``option_chain_quotes`` (one
request, plain columns) for the columnar chain; ``None`` where the old ops must serve it: a ccxt
venue's imported quotes (``venue_quotes``), a market-data without the op (no responders), no
option of the expiry listed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from tradeloom.quant.options.bsm import F64
from tradeloom.shared.context import CallerContext
from tradeloom.shared.errors import Timeout, Unavailable
from tradeloom.shared.rpc import RemoteError, ServiceClient


@dataclass(frozen=True)
class ListedQuotes:
    """The options of a page's first ``most`` strikes, by strike then symbol, and their quotes."""

    symbols: list[str]
    is_call: np.ndarray[Any, np.dtype[np.bool_]]
    strike: F64
    bid: F64
    ask: F64
    spot: float | None  # None: no trade of the underlying yet, so no quotes
    next_strike_from: float | None


async def chain_quotes(  # noqa: PLR0917
    client: ServiceClient,
    caller: CallerContext,
    venue: str,
    underlying: str,
    expiry: datetime,
    window: dict[str, str | None],
    most: int,
    timeout_s: float,
) -> ListedQuotes | None:
    asked = {"underlying": underlying, "venue": venue, "expiry": expiry.date().isoformat(), **window,
             "limit": 2 * most + 1}  # fmt: skip
    try:
        reply = await client.call_raw(
            "market-data", "option_chain_quotes", asked, caller=caller, timeout_s=timeout_s
        )
    except Timeout:
        raise
    except Unavailable:
        return None
    except RemoteError as error:
        if error.code == "not_found":
            return None
        raise
    if reply["venue_quotes"]:
        return None
    return listed_page(reply, expiry, most)


def listed_page(reply: dict[str, Any], expiry: datetime, most: int) -> ListedQuotes:
    """The reply's options of ``expiry`` (to the second, as the row chain keeps them) within the
    first ``most`` strikes, and the next strike if there are more."""
    keep = np.array([datetime.fromisoformat(e) == expiry for e in reply["expiry"]], dtype=bool)
    strike = np.array(reply["strike"], dtype=np.float64)[keep]
    distinct = np.unique(strike)
    next_from = None
    if len(distinct) > most:
        next_from = float(distinct[most])
        keep &= np.array(reply["strike"], dtype=np.float64) < distinct[most]
        strike = np.array(reply["strike"], dtype=np.float64)[keep]
    symbols = [s for s, k in zip(reply["symbol"], keep.tolist(), strict=True) if k]
    spot = reply["spot"]
    return ListedQuotes(
        symbols, np.array(reply["option_type"], dtype=object)[keep] == "call", strike,
        np.array(reply["bid"], dtype=np.float64)[keep], np.array(reply["ask"], dtype=np.float64)[keep],
        None if spot is None else float(spot), next_from,
    )  # fmt: skip
