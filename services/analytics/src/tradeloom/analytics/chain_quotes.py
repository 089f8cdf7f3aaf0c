"""One chain page's listing with its quotes from market-data's ``option_chain_quotes_f64`` (one
request, binary columns; ``option_chain_quotes``' plain columns from a market-data without it) for
the columnar chain; ``None`` where the old ops must serve it: a ccxt venue's imported quotes
(``venue_quotes``), a market-data without either op (no responders), no option of the expiry
listed."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson

from tradeloom.quant.options.bsm import F64
from tradeloom.shared.context import CallerContext
from tradeloom.shared.errors import Timeout, Unavailable
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.ttl_cache import TtlCache

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
log = logging.getLogger(__name__)
MAX_EXPIRY_KEYS = 10_000  # (underlying, venue) pairs kept (then forgotten at once)


ExpiriesKey = tuple[str, str | None]  # (underlying, venue)


def expiries_cache(
    ttl_s: float, clock: Callable[[], float] = time.monotonic
) -> TtlCache[ExpiriesKey, dict[str, Any]]:
    """market-data's ``option_expiries`` replies per (underlying, venue), kept ``ttl_s`` seconds of
    ``clock`` (0: not kept). A chain asks for its expiries on every request, several times a
    second, while a venue lists a new expiry at most a few times a day: a reply may be ``ttl_s`` old
    (a new expiry shows, an expired one is dropped by the chain's own clock). The reply does not
    depend on the caller (the listing is public), so one entry serves everyone.

    Refreshed ahead in the second half of a reply's life, so a steady stream of chains never waits
    for market-data's expiries (one request in every ``ttl_s`` seconds did, adding a round trip to
    that chain). A failed refresh leaves the kept reply to expire; the next request after that asks
    market-data itself."""
    return TtlCache(ttl_s, max_entries=MAX_EXPIRY_KEYS, clock=clock, refresh_ahead=0.5)


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
    """From ``option_chain_quotes_f64`` (binary columns: no decimal strings to write and parse),
    else ``option_chain_quotes`` from a market-data without it."""
    asked = {"underlying": underlying, "venue": venue, "expiry": expiry.date().isoformat(), **window,
             "limit": 2 * most + 1}  # fmt: skip
    for op in ("option_chain_quotes_f64", "option_chain_quotes"):
        try:
            # parsed here by orjson (a third of json's time on this ~0.4 MB reply)
            reply = orjson.loads(
                await client.call_json("market-data", op, asked, caller=caller, timeout_s=timeout_s)
            )
        except Timeout:
            raise
        except Unavailable:
            continue
        except RemoteError as error:
            if error.code == "not_found":
                return None
            raise
        if reply["venue_quotes"]:
            return None
        return packed_page(reply, expiry, most) if op.endswith("_f64") else listed_page(reply, expiry, most)
    return None


def listed_page(reply: dict[str, Any], expiry: datetime, most: int) -> ListedQuotes:
    """``option_chain_quotes``' options of ``expiry`` (to the second, as the row chain keeps them)
    within the first ``most`` strikes, and the next strike if there are more."""
    keep = np.array([datetime.fromisoformat(e) == expiry for e in reply["expiry"]], dtype=bool)
    return _first_strikes(
        reply["symbol"], np.array(reply["option_type"], dtype=object) == "call",
        np.array(reply["strike"], dtype=np.float64), keep, np.array(reply["bid"], dtype=np.float64),
        np.array(reply["ask"], dtype=np.float64), reply["spot"], most,
    )  # fmt: skip


def packed_page(reply: dict[str, Any], expiry: datetime, most: int) -> ListedQuotes:
    """The same from ``option_chain_quotes_f64``'s binary columns (NaN where the JSON has null)."""
    expiry_ns = (expiry - EPOCH) // timedelta(microseconds=1) * 1_000
    return _first_strikes(
        reply["symbol"], _column(reply["is_call"], "<u1") == 1, _column(reply["strike"], "<f8"),
        _column(reply["expiry_ns"], "<i8") == expiry_ns, _column(reply["bid"], "<f8"),
        _column(reply["ask"], "<f8"), reply["spot"], most,
    )  # fmt: skip


def _column(text: str, dtype: str) -> np.ndarray[Any, Any]:
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def _first_strikes(  # noqa: PLR0917
    symbol: list[str],
    is_call: np.ndarray[Any, np.dtype[np.bool_]],
    all_strikes: F64,
    keep: np.ndarray[Any, np.dtype[np.bool_]],
    bid: F64,
    ask: F64,
    spot: str | None,
    most: int,
) -> ListedQuotes:
    """The ``keep`` options within the first ``most`` distinct strikes, and the next strike."""
    strike = all_strikes[keep]
    distinct = np.unique(strike)
    next_from = None
    if len(distinct) > most:
        next_from = float(distinct[most])
        keep = keep & (all_strikes < distinct[most])
        strike = all_strikes[keep]
    symbols: list[str] = np.array(symbol, dtype=object)[keep].tolist() if len(symbol) else []
    return ListedQuotes(
        symbols, is_call[keep], strike, bid[keep], ask[keep], None if spot is None else float(spot), next_from
    )
