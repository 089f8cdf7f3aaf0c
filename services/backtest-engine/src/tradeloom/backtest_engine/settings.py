"""backtest-engine settings: environment variables prefixed ``TL_BACKTEST_ENGINE_``."""

from typing import ClassVar, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class BacktestEngineSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_BACKTEST_ENGINE_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "backtest-engine"

    health_port: int = 9105
    candles_page_size: int = Field(
        default=5000, ge=100, le=5000, description="bars per svc.market-data.datasets_bars call"
    )
    candle_block_size: int = Field(
        default=10_000, ge=100, le=10_000, description="candles per svc.market-data.candles_columns call"
    )
    max_bars: int = Field(default=2_000_000, ge=1000, description="longest series one run may fetch")
    market_data_timeout_s: float = Field(default=10.0, gt=0, le=120)
    market_data_retries: int = Field(
        default=6, ge=0, le=20, description="tries again within one delivery while market-data is unavailable"
    )
    market_data_retry_first_s: float = Field(
        default=0.5, gt=0, le=60, description="first wait before trying market-data again (then doubled)"
    )
    market_data_retry_max_s: float = Field(
        default=8.0, gt=0, le=300, description="longest wait between two tries of market-data"
    )
    optimise_chunk_bar_evaluations: int = Field(
        default=20_000_000, ge=1, description="simulated bars per optimisation chunk (cancel granularity)"
    )
    max_bar_evaluations: int = Field(
        default=20_000_000_000, ge=1, description="largest optimisation (parameter sets x bars x folds)"
    )
    export_ttl_s: float = Field(default=86_400.0, gt=0, description="how long CSV exports are kept")
    heartbeat_interval_s: float = Field(
        default=10.0, gt=0, le=300, description="how often a worker stamps a run it is running as alive"
    )
    stale_run_after_s: float = Field(
        default=300.0,
        gt=0,
        description="a running run without a heartbeat for this long lost its worker and is failed "
        "(must exceed the run consumer's longest redelivery wait plus two heartbeats)",
    )
    sweep_interval_s: float = Field(default=30.0, gt=0, description="how often the stale-run sweeper looks")
    sandbox_time_limit_s: float = Field(
        default=60.0, ge=1, le=300, description="limit of a user-code strategy's signals run in the sandbox"
    )
    sandbox_memory_mb: int = Field(default=512, ge=64, le=2048, description="memory of that run")
    candles_concurrency: int = Field(default=4, ge=1, le=16, description="candle pages requested at once")
    candle_cache_pages: int = Field(
        default=64, ge=0, description="closed historical candle blocks kept in memory (0: no cache)"
    )
    candle_cache_ttl_s: float = Field(
        default=900.0, gt=0, description="how long a cached candle block is used (bounds a missed backfill)"
    )

    @model_validator(mode="after")
    def _stale_after_beats(self) -> Self:
        if self.stale_run_after_s <= 2 * self.heartbeat_interval_s:
            raise ValueError("stale_run_after_s: must be more than twice heartbeat_interval_s")
        return self
