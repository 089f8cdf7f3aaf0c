"""backtest-engine settings: environment variables prefixed ``TL_BACKTEST_ENGINE_``."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class BacktestEngineSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_BACKTEST_ENGINE_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "backtest-engine"

    health_port: int = 9105
    candles_page_size: int = Field(default=5000, ge=100, le=5000, description="candles per market-data call")
    max_bars: int = Field(default=2_000_000, ge=1000, description="longest series one run may fetch")
    market_data_timeout_s: float = Field(default=10.0, gt=0, le=120)
    optimise_chunk_bar_evaluations: int = Field(
        default=20_000_000, ge=1, description="simulated bars per optimisation chunk (cancel granularity)"
    )
    max_bar_evaluations: int = Field(
        default=20_000_000_000, ge=1, description="largest optimisation (parameter sets x bars x folds)"
    )
    export_ttl_s: float = Field(default=86_400.0, gt=0, description="how long CSV exports are kept")
