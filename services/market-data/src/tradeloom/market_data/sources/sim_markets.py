"""The synthetic venue's simulated markets, one per configured symbol."""

from __future__ import annotations

import time
from decimal import Decimal

from tradeloom.market_data.domain.simulator import SimConfig, SyntheticMarket
from tradeloom.market_data.settings import MarketDataSettings


def synthetic_markets(
    settings: MarketDataSettings, resume_prices: dict[str, Decimal] | None = None
) -> list[SyntheticMarket]:
    """One simulated market per symbol, starting from ``resume_prices`` (the last stored trade's
    price) where known, else from the configured start price."""
    run_id = str(time.time_ns() // 1_000_000)  # a simulation's trades are new on every run
    resume = resume_prices or {}
    markets = []
    for index, symbol in enumerate(settings.sim_symbols):
        prices = settings.sim_start_prices
        seed_price = prices[index] if index < len(prices) else 100.0
        config = SimConfig(
            symbol=symbol,
            start_price=float(resume[symbol]) if symbol in resume else seed_price,
            drift=settings.sim_drift,
            volatility=settings.sim_volatility,
            trades_per_s=settings.sim_trades_per_s,
            mean_size=settings.sim_mean_size,
        )
        markets.append(SyntheticMarket(config, settings.sim_seed, run_id))
    return markets
