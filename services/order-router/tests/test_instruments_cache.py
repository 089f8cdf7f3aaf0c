"""The instrument directory answers from memory while it refreshes an expired list behind the
orders (one request a venue), and fetches in the order's path only without a usable list."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from or_harness import INSTRUMENTS

from tradeloom.order_router import instruments as module
from tradeloom.order_router.instruments import InstrumentDirectory
from tradeloom.shared.contracts.market_data import InstrumentsReply
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.rpc import ServiceClient


class MarketData:
    """Answers ``instruments`` with the listed symbols once ``gate`` is open; counts the calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.listed = ["BTC/USDT", "ETH/USDT"]
        self.down = False

    async def call(self, service: str, op: str, body: Any, reply_model: Any, **_: Any) -> InstrumentsReply:
        assert (service, op) == ("market-data", "instruments")
        self.calls += 1
        await self.gate.wait()
        if self.down:
            raise Unavailable("market-data is not answering (no responders)")
        return InstrumentsReply(instruments=[i for i in INSTRUMENTS if i.symbol in self.listed])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(module, "time", clock)
    return clock


def directory(market: MarketData) -> InstrumentDirectory:
    return InstrumentDirectory(lambda: cast(ServiceClient, market), ttl_s=60, timeout_s=1, max_stale_s=300)


async def test_a_burst_at_expiry_is_answered_from_memory_while_one_request_refreshes(clock: Clock) -> None:
    market = MarketData()
    instruments = directory(market)
    assert (await instruments.get("sim", "btc/usdt")) is not None and market.calls == 1
    clock.now += 61
    market.gate.clear()  # the refresh hangs: no order may wait for it
    market.listed = ["ETH/USDT"]  # BTC delisted meanwhile
    answers = await asyncio.wait_for(
        asyncio.gather(*(instruments.get("sim", "BTC/USDT") for _ in range(20))), 1
    )
    assert all(answer is not None for answer in answers) and market.calls == 2  # one refresh
    market.gate.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert await instruments.get("sim", "BTC/USDT") is None  # the refreshed list
    assert market.calls == 2


async def test_a_failed_refresh_keeps_the_list_until_it_is_too_old_then_the_order_hears(clock: Clock) -> None:
    market = MarketData()
    instruments = directory(market)
    await instruments.get("sim", "BTC/USDT")
    market.down = True
    clock.now += 61
    assert await instruments.get("sim", "BTC/USDT") is not None  # stale, served; refresh failed behind
    for _ in range(5):
        await asyncio.sleep(0)
    clock.now += 300  # past max_stale_s
    with pytest.raises(Unavailable):
        await instruments.get("sim", "BTC/USDT")
    market.down = False
    assert await instruments.get("sim", "BTC/USDT") is not None


async def test_callers_without_a_list_share_one_request(clock: Clock) -> None:
    market = MarketData()
    instruments = directory(market)
    market.gate.clear()
    waiting = [asyncio.create_task(instruments.get("sim", "ETH/USDT")) for _ in range(10)]
    await asyncio.sleep(0.01)
    market.gate.set()
    assert all(answer is not None for answer in await asyncio.gather(*waiting))
    assert market.calls == 1
