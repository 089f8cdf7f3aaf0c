"""Candle blocks: the range cut at aligned block edges, blocks fetched concurrently and yielded in
order (the same bars as market-data's pages one after another), closed whole blocks cached within
a bound and a TTL, open ones never; a columns page decoded, a malformed one refused."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.backtest_engine.adapters.candle_blocks import BlockSource, blocks_of
from tradeloom.backtest_engine.adapters.candle_cache import BlockKey, CandleCache
from tradeloom.backtest_engine.adapters.candles_source import MalformedCandles, concat, packed_arrays
from tradeloom.backtest_engine.domain.simulation import BarArrays
from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data_columns import CandleColumnsRequest
from tradeloom.shared.contracts.market_data_packed import (
    PACKED_COLUMNS,
    CandlesPackedHeader,
    default_columns,
    pack_frame,
)
from tradeloom.shared.testing.polling import eventually

HOUR_NS = 3_600 * 1_000_000_000


@settings(deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 40), st.integers(0, 10**6), st.integers(1, 5000))
def test_blocks_cover_the_range_exactly_in_order(start: int, spans: int, extra: int, span: int) -> None:
    end = start + spans * span + extra % span
    blocks = blocks_of(start, end, span)
    assert blocks[0].lo_ns == start and blocks[-1].hi_ns == end
    for block, after in itertools.pairwise(blocks):
        assert after.lo_ns == block.hi_ns + 1 and after.start_ns == block.start_ns + span
    for block in blocks:
        assert block.start_ns % span == 0 and block.start_ns <= block.lo_ns <= block.hi_ns
        assert block.hi_ns < block.start_ns + span
        assert block.whole == (block.lo_ns == block.start_ns and block.hi_ns == block.start_ns + span - 1)


def _bars(n: int) -> BarArrays:
    values = np.arange(n, dtype=np.float64)
    return BarArrays(np.arange(n, dtype=np.int64), values, values, values, values, values)


def test_the_cache_is_a_bounded_lru_with_a_ttl() -> None:
    now = [0.0]
    cache = CandleCache(max_blocks=2, ttl_s=10.0, clock=lambda: now[0])
    keys = [BlockKey(None, "BTC/USDT", "1h", i, 100) for i in range(3)]
    cache.put(keys[0], _bars(1))
    cache.put(keys[1], _bars(2))
    assert cache.get(keys[0]) is not None  # now the most recently used
    cache.put(keys[2], _bars(3))
    assert len(cache) == 2 and cache.get(keys[1]) is None and cache.get(keys[0]) is not None
    now[0] = 10.5
    assert cache.get(keys[0]) is None and cache.get(keys[2]) is None and len(cache) == 0
    off = CandleCache(max_blocks=0, ttl_s=10.0)
    off.put(keys[0], _bars(1))
    assert len(off) == 0


def _source(harness: Any, page_size: int, cache: CandleCache | None) -> BlockSource:
    return BlockSource(harness.client(), CallerContext(user_id="alice"), symbol="BTC/USDT", venue=None,
                       timeframe="1h", timeframe_ns=HOUR_NS, page_size=page_size, timeout_s=5,
                       cache=cache)  # fmt: skip


async def _requests(market: Any, expected: int) -> int:
    """The number of candle requests market-data received, once it is ``expected`` (the counting
    subscription may see the last request a moment after its reply) and checked after a round trip."""
    await eventually(lambda: market.calls >= expected, f"{expected} candle requests")
    await market.nc.flush()
    assert market.calls == expected
    return int(market.calls)


async def _fetch(source: BlockSource, start: int, end: int, concurrency: int) -> BarArrays:
    pages = [page async for page in source.pages(start, end, concurrency)]
    assert [page.done for page in pages] == [False] * (len(pages) - 1) + [True]
    return concat([page.bars for page in pages])


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_blocks_give_the_bars_of_the_range_and_the_cache_serves_closed_ones(
    harness: Any, market: Any, concurrency: int
) -> None:
    bars = market.bars
    cache = CandleCache(max_blocks=64, ttl_s=600.0)

    start, end = int(bars["time"][37]), int(bars["time"][561]) + 1  # edges inside blocks
    want = slice(37, 562)
    got = await _fetch(_source(harness, 100, cache), start, end, concurrency)
    for name in ("time", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(got, name), bars[name][want], err_msg=name)
    first_calls = await _requests(market, len(blocks_of(start, end, 100 * HOUR_NS)))
    whole = sum(b.whole for b in blocks_of(start, end, 100 * HOUR_NS))
    assert whole >= 3 and len(cache) == whole

    again = await _fetch(
        _source(harness, 100, cache), start, end, concurrency
    )  # only the edge blocks are fetched
    await _requests(market, first_calls + len(blocks_of(start, end, 100 * HOUR_NS)) - whole)
    np.testing.assert_array_equal(again.close, bars["close"][want])
    cached = cache.get(next(iter(cache._blocks)))
    assert cached is not None
    with pytest.raises(ValueError, match="read-only"):  # shared by later runs: nobody may change it
        cached.close[0] = 1.0

    # a page size that does not fit: blocks span 30 bars but replies hold 20, so cursors are followed
    small = _source(harness, 30, None)
    small.page_size = 20
    np.testing.assert_array_equal((await _fetch(small, start, end, concurrency)).time, bars["time"][want])


async def test_blocks_that_have_not_closed_are_never_cached(harness: Any, market: Any) -> None:
    cache = CandleCache(max_blocks=64, ttl_s=600.0)
    future = _source(harness, 100, cache)
    end = int(market.bars["time"][-1])
    future.timeframe_ns = HOUR_NS * 10**6  # so long that no block of the data has closed yet
    future.span_ns = 100 * HOUR_NS
    await _fetch(future, int(market.bars["time"][0]), end, 2)
    assert len(cache) == 0


async def test_default_blocks_of_ten_thousand_candles(harness: Any, market: Any) -> None:
    """The default block is one full ``candles_packed`` page; 100,000 minutes are 10–11 blocks."""
    size = BacktestEngineSettings.model_fields["candle_block_size"].default
    assert size == 10_000 == CandleColumnsRequest.model_fields["limit"].default
    minute = 60 * 10**9
    start = 1_704_067_200 * 10**9 + 17 * minute
    assert len(blocks_of(start, start + 99_999 * minute, size * minute)) == 11
    assert len(blocks_of(0, 100_000 * minute - 1, size * minute)) == 10

    bars = market.bars  # 600 hourly bars: inside one or two blocks of 10,000 hours
    got = await _fetch(_source(harness, size, None), int(bars["time"][0]), int(bars["time"][-1]), 4)
    np.testing.assert_array_equal(got.time, bars["time"])
    np.testing.assert_array_equal(got.volume, bars["volume"])
    await _requests(market, len(blocks_of(int(bars["time"][0]), int(bars["time"][-1]), size * HOUR_NS)))


def _frame(n: int, names: tuple[str, ...] = tuple(name for name, _ in PACKED_COLUMNS)) -> bytes:
    chosen = [c for c in default_columns() if c.name in names]
    header = CandlesPackedHeader(venue="sim", symbol="BTC/USDT", timeframe="1h", count=n, columns=chosen,
                                 next_cursor="7" if n else None)  # fmt: skip
    return pack_frame(header, [np.arange(n, dtype=c.dtype).tobytes() for c in chosen])


def test_a_candles_frame_is_decoded_and_a_malformed_one_refused() -> None:
    bars, cursor = packed_arrays(_frame(3))
    assert bars.time.dtype == np.int64 and bars.close.dtype == np.float64 and cursor == "7"
    assert bars.time.tolist() == [0, 1, 2] and bars.volume.tolist() == [0.0, 1.0, 2.0]
    assert len(packed_arrays(_frame(0))[0]) == 0 and packed_arrays(_frame(0))[1] is None
    assert len(packed_arrays(_frame(2, ("open_ns", "open", "high", "low", "close", "volume")))[0]) == 2
    for broken in (
        _frame(3)[:-8],  # a column short
        _frame(3, ("open_ns", "open", "high", "low", "volume", "trade_count")),  # no close
        b'{"data": {}}',
        b"TLC1" + b"\x05\x00\x00\x00" + b"{bad}",
    ):
        with pytest.raises(MalformedCandles):
            packed_arrays(broken)
