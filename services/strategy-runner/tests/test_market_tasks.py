"""A candle's decisions as a task per market: markets side by side, one market's candles in order."""

from __future__ import annotations

import asyncio

from tradeloom.strategy_runner.bots.market_tasks import MarketTasks


async def test_markets_run_side_by_side_and_one_markets_candles_in_order() -> None:
    tasks = MarketTasks()
    log: list[str] = []
    gate = asyncio.Event()

    def work(name: str, wait: bool = False, fail: bool = False):  # type: ignore[no-untyped-def]
        async def run() -> None:
            log.append(f"{name} start")
            if wait:
                await gate.wait()
            if fail:
                raise RuntimeError("market-data away")
            log.append(f"{name} end")

        return run

    tasks.schedule("BTC", work("btc1", wait=True, fail=True))
    tasks.schedule("BTC", work("btc2"))
    tasks.schedule("ETH", work("eth1"))
    for _ in range(20):
        await asyncio.sleep(0)
    assert log == ["btc1 start", "eth1 start", "eth1 end"]  # ETH does not wait for BTC's candle
    assert tasks.busy("BTC") and not tasks.busy("ETH")
    gate.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert log[3:] == ["btc2 start", "btc2 end"]  # after btc1, whose failure is only logged
    assert not tasks.busy("BTC")
    tasks.schedule("BTC", work("btc3", wait=True))
    gate.clear()
    await tasks.cancel_all()
    assert not tasks.busy("BTC")
