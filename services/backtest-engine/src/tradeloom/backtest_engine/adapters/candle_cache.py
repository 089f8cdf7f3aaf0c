"""A bounded in-process LRU of closed historical candle blocks (see ``candle_blocks``).

History before the current candle does not change: a block of candles that all closed (with one
more candle's time to spare) is what market-data will answer for it again. The exception is a
backfill of history market-data did not have yet (an import of older trades); ``ttl_s`` bounds how
long a run may miss it. The bound is ``max_blocks`` blocks of at most ``CANDLE_BLOCK_SIZE`` bars
(48 bytes a bar: 10,000 bars are 480 kB, so the default 64 blocks stay under about 31 MB).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from tradeloom.backtest_engine.domain.simulation import BarArrays


class BlockKey(NamedTuple):
    venue: str | None
    symbol: str
    timeframe: str
    start_ns: int  # the block's first possible open time (a multiple of span_ns)
    span_ns: int


class CandleCache:
    def __init__(self, max_blocks: int, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_blocks = max_blocks
        self.ttl_s = ttl_s
        self._clock = clock
        self._blocks: OrderedDict[BlockKey, tuple[float, BarArrays]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._blocks)

    def get(self, key: BlockKey) -> BarArrays | None:
        found = self._blocks.get(key)
        if found is None or self._clock() - found[0] > self.ttl_s:
            if found is not None:
                del self._blocks[key]
            self.misses += 1
            return None
        self._blocks.move_to_end(key)
        self.hits += 1
        return found[1]

    def put(self, key: BlockKey, bars: BarArrays) -> None:
        if self.max_blocks <= 0:
            return
        self._blocks[key] = (self._clock(), bars)
        self._blocks.move_to_end(key)
        while len(self._blocks) > self.max_blocks:
            self._blocks.popitem(last=False)
