"""market-data settings: environment variables prefixed ``TL_MARKET_DATA_``."""

from typing import ClassVar

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from tradeloom.market_data.domain.symbols import normalise_symbol
from tradeloom.market_data.source_settings import (
    LiveSourceSettings,
    OptionChainSettings,
    PerpetualsSettings,
    ReplaySourceSettings,
)
from tradeloom.shared.settings import ServiceSettings


class MarketDataSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_MARKET_DATA_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "market-data"

    health_port: int = 9102
    default_venue: str = Field(default="sim", pattern=r"^[a-z0-9_\-]{1,32}$")
    # synthetic source (the default in `make run`); empty symbols switches it off
    sim_venue: str = Field(default="sim", pattern=r"^[a-z0-9_\-]{1,32}$")
    sim_symbols: list[str] = Field(default_factory=lambda: ["BTC/USDT", "ETH/USDT"])
    sim_start_prices: list[float] = Field(default_factory=lambda: [65000.0, 3500.0])
    sim_seed: int = 42
    sim_drift: float = 0.0
    sim_volatility: float = Field(default=0.8, ge=0, le=20)
    option_volatility_cache_s: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="option_chain_quotes keeps an underlying's realised volatility",
    )
    sim_trades_per_s: float = Field(default=5.0, ge=0, le=100_000)
    sim_mean_size: float = Field(default=0.05, gt=0)
    # a fast market for tests only: start this far in the past and run this many times faster
    sim_backdate_s: float = Field(default=0.0, ge=0, le=7 * 86_400)
    sim_time_scale: float = Field(default=1.0, ge=1, le=10_000)
    sim_book_interval_s: float = Field(default=1.0, gt=0)
    sim_book_levels: int = Field(default=20, ge=1, le=500)
    # replay and live sources: JSON lists, one entry per file / exchange (see source_settings.py)
    replay_sources: list[ReplaySourceSettings] = Field(default_factory=list)
    live_sources: list[LiveSourceSettings] = Field(default_factory=list)
    instruments_file: str | None = Field(default=None, description="JSON file of instruments for file venues")
    publish_batch_max: int = Field(default=500, ge=1, le=5000)
    persist_batch_messages: int = Field(default=200, ge=1, le=5000)
    candle_tolerance_s: float = Field(
        default=2.0, ge=0, le=3600, description="late trades within this close late"
    )
    timescale_compress_after_days: int = Field(default=7, ge=1)
    timescale_retention_days: int | None = Field(default=None, ge=1)
    timescale_candle_aggregates: bool = Field(
        default=True, description="build 5m…1w candles as continuous aggregates where TimescaleDB ≥ 2.15 runs"
    )
    timescale_cagg_refresh_s: int = Field(default=60, ge=1, description="refresh policy schedule")
    timescale_cagg_lookback_s: int = Field(
        default=86_400, ge=60, description="each refresh re-materialises this much recent history"
    )
    dataset_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    dataset_upload_ttl_s: float = Field(
        default=3600, gt=0, description="an upload idle this long (no begin/chunk) is pruned"
    )
    dataset_prune_interval_s: float = Field(default=60, gt=0, description="how often uploads are pruned")
    subscriptions_sync_s: float = Field(
        default=2.0,
        gt=0,
        description="how often the API's subscriptions are read (a local request wakes it at once)",
    )
    import_page_limit: int = Field(default=500, ge=1, le=1000, description="candles per fetch_ohlcv page")
    import_lease_s: float = Field(
        default=30, gt=0, description="a job not renewed this long (its replica died) is taken up again"
    )
    import_poll_s: float = Field(default=1.0, gt=0, description="how often idle replicas look for a job")
    import_backoff_initial_s: float = Field(default=1.0, gt=0)
    import_backoff_max_s: float = Field(default=60.0, gt=0)
    import_max_retries: int = Field(default=8, ge=0, description="rate-limit/network retries of one page")
    import_max_days: int = Field(default=3660, ge=1, description="longest range one import may span")
    option_chains: list[OptionChainSettings] = Field(
        default_factory=list, description='JSON list of {"venue", "underlying"} re-imported periodically'
    )
    option_chain_interval_s: float = Field(
        default=60, gt=0, description="how often option_chains are imported"
    )
    perpetuals: list[PerpetualsSettings] = Field(
        default_factory=list,
        description='JSON list of {"venue", "symbols", "history_days"}: ccxt perpetuals\' funding imported',
    )
    perp_funding_interval_s: float = Field(
        default=300, gt=0, description="how often the perpetuals' funding history and mark are fetched"
    )
    perp_funding_page_limit: int = Field(
        default=1000, ge=1, le=1000, description="entries per fetch_funding_rate_history page"
    )
    funding_check_interval_s: float = Field(
        default=60,
        gt=0,
        description="how often the synthetic venue's perpetuals get the funding times passed",
    )

    @field_validator("sim_symbols")
    @classmethod
    def _normalise(cls, value: list[str]) -> list[str]:
        return [normalise_symbol(symbol) for symbol in value]

    @field_validator("perpetuals")
    @classmethod
    def _perpetuals_of_live_venues(
        cls, value: list[PerpetualsSettings], info: ValidationInfo
    ) -> list[PerpetualsSettings]:
        venues = {live.venue_name for live in info.data.get("live_sources", [])}
        for entry in value:
            if entry.venue not in venues:
                known = ", ".join(sorted(venues)) or "none configured"
                raise ValueError(f"venue {entry.venue!r} is not a LIVE_SOURCES venue (known: {known})")
        return value
