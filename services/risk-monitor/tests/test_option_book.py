"""The option quote book's rules with a fake market-data client and clock: what is refreshed,
when a chain is stale, and the listeners called once per refreshed chain."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradeloom.risk_monitor.domain.limits import Limits
from tradeloom.risk_monitor.domain.option_limits import NetGreeks
from tradeloom.risk_monitor.greek_alerts import greek_usage
from tradeloom.risk_monitor.option_book import OptionQuoteBook
from tradeloom.shared.contracts.market_data_options import OptionQuotesReply
from tradeloom.shared.rpc import Unavailable


class FakeMarketData:
    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []
        self.down = False

    async def call_raw(self, service: str, op: str, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        assert (service, op) == ("market-data", "option_quotes")
        self.asked.append(body)
        if self.down:
            raise Unavailable("market-data is not answering")
        return {"venue": body["venue"], "underlying": body["underlying"], "spot": "100", "spot_ts_ns": 1,
                "realised_volatility": 0.2, "quotes": []}  # fmt: skip


async def test_the_book_refreshes_what_is_wanted_or_held_and_goes_stale() -> None:
    now = [0.0]
    market = FakeMarketData()
    book = OptionQuoteBook(
        lambda: market,  # type: ignore[arg-type,return-value]
        timeout_s=1, refresh_s=1, max_age_s=5, keep_s=60, clock=lambda: now[0],
    )  # fmt: skip
    seen: list[tuple[str, str]] = []

    async def listener(venue: str, underlying: str, chain: OptionQuotesReply) -> None:
        seen.append((venue, underlying))

    async def held() -> set[tuple[str, str]]:
        return {("sim", "ETH/USDT")}

    book.listeners.append(listener)
    book.sources.append(held)
    assert book.fresh("sim", "BTC/USDT") is None  # none yet: wanted from now on
    await book.refresh()
    assert [(b["venue"], b["underlying"]) for b in market.asked] == [("sim", "BTC/USDT"), ("sim", "ETH/USDT")]
    assert "symbols" not in market.asked[0]  # the whole chain
    assert seen == [("sim", "BTC/USDT"), ("sim", "ETH/USDT")]
    assert book.fresh("sim", "BTC/USDT") is not None

    market.down = True
    now[0] = 4.0
    await book.refresh()  # nothing fetched: the chains stay as they were
    assert book.fresh("sim", "BTC/USDT") is not None and len(seen) == 2
    now[0] = 5.5
    assert book.fresh("sim", "BTC/USDT") is None  # older than max_age_s: stale

    market.down, market.asked = False, []
    now[0] = 100.0  # no check asked about BTC/USDT for keep_s: only the held underlying is refreshed
    await book.refresh()
    assert [b["underlying"] for b in market.asked] == ["ETH/USDT"]


def test_greek_usage_measures_the_limits_set() -> None:
    greeks = NetGreeks(delta=-1.0796564, vega=0.79390612)
    assert greek_usage(greeks, Limits(max_net_delta=Decimal(1))) == [
        ("max_net_delta", Decimal("1.079656"), Decimal(1))
    ]
    assert greek_usage(greeks, Limits(max_net_delta=Decimal(2), max_net_vega=Decimal("0.9"))) == [
        ("max_net_delta", Decimal("1.079656"), Decimal(2)),
        ("max_net_vega", Decimal("0.793906"), Decimal("0.9")),
    ]
    assert greek_usage(greeks, Limits()) == []
