"""A seeded market simulator per symbol: geometric Brownian motion trades and a book around them.

Pure: the same seed, symbol and calls give the same prices, sizes and sides (timestamps are the
caller's). ``drift`` and ``volatility`` are annual; time advances by the trades' own timestamps.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

YEAR_NS = 365 * 86_400 * 1_000_000_000


@dataclass(frozen=True)
class SimConfig:
    symbol: str
    start_price: float = 100.0
    drift: float = 0.0
    volatility: float = 0.8
    trades_per_s: float = 5.0
    mean_size: float = 0.05
    tick: str = "0.01"
    lot: str = "0.00001"


@dataclass(frozen=True)
class SimTrade:
    trade_id: str
    ts_ns: int
    price: Decimal
    amount: Decimal
    side: str


class SyntheticMarket:
    """One symbol's simulated market; ``run_id`` keeps trade ids unique across runs."""

    def __init__(self, config: SimConfig, seed: int, run_id: str = "0") -> None:
        self.config = config
        self.rng = np.random.default_rng([seed, zlib.crc32(config.symbol.encode())])
        self.price = config.start_price
        self.last_ts_ns: int | None = None
        self.sequence = 0
        self.run_id = run_id
        self.tick = Decimal(config.tick)
        self.lot = Decimal(config.lot)
        self._tick_places = -self.tick.as_tuple().exponent  # type: ignore[operator]
        self._lot_places = -self.lot.as_tuple().exponent  # type: ignore[operator]

    def trades(self, timestamps: list[int]) -> list[SimTrade]:
        """One trade at each (non-decreasing) timestamp, prices following GBM between them."""
        if not timestamps:
            return []
        stamps = np.asarray(timestamps, dtype=np.int64)
        previous = self.last_ts_ns if self.last_ts_ns is not None else int(stamps[0])
        dt = np.diff(stamps, prepend=previous).clip(min=0) / YEAR_NS
        sigma, mu = self.config.volatility, self.config.drift
        shocks = self.rng.standard_normal(len(stamps))
        log_path = np.cumsum((mu - sigma * sigma / 2) * dt + sigma * np.sqrt(dt) * shocks)
        prices = self.price * np.exp(log_path)
        sizes = self.rng.exponential(self.config.mean_size, len(stamps))
        buys = self.rng.random(len(stamps)) < 0.5
        min_size = float(self.lot)
        out: list[SimTrade] = []
        for i, ts in enumerate(timestamps):
            self.sequence += 1
            price = Decimal(f"{max(prices[i], float(self.tick)):.{self._tick_places}f}")
            amount = Decimal(f"{max(sizes[i], min_size):.{self._lot_places}f}")
            side = "buy" if buys[i] else "sell"
            out.append(SimTrade(f"{self.run_id}-{self.sequence}", ts, price, amount, side))
        self.price = float(prices[-1])
        self.last_ts_ns = int(stamps[-1])
        return out

    def book(self, levels: int) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """A bid/ask ladder around the current price: (price, amount) best first on each side."""
        tick = float(self.tick)
        half_spread = max(tick, self.price * 0.0001 * (0.5 + self.rng.random()))
        step = max(tick, self.price * 0.00005)
        sizes = self.rng.exponential(self.config.mean_size * 4, (2, levels))

        def level(price: float, size: float) -> tuple[Decimal, Decimal]:
            return (
                Decimal(f"{max(price, tick):.{self._tick_places}f}"),
                Decimal(f"{max(size, float(self.lot)):.{self._lot_places}f}"),
            )

        bids = [level(self.price - half_spread - i * step, sizes[0][i]) for i in range(levels)]
        asks = [level(self.price + half_spread + i * step, sizes[1][i]) for i in range(levels)]
        return bids, asks

    def arrivals(self, start_ns: int, end_ns: int) -> list[int]:
        """Poisson trade times in [start_ns, end_ns) at ``trades_per_s``, sorted."""
        seconds = max(0, end_ns - start_ns) / 1e9
        count = int(self.rng.poisson(self.config.trades_per_s * seconds)) if seconds > 0 else 0
        if count == 0 or math.isclose(seconds, 0):
            return []
        return sorted(int(t) for t in self.rng.integers(start_ns, max(start_ns + 1, end_ns), count))
