"""strategy-runner settings: environment variables prefixed ``TL_STRATEGY_RUNNER_``."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class StrategyRunnerSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_STRATEGY_RUNNER_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "strategy-runner"

    health_port: int = 9108
    # strategy_versions_list returns every version in one reply, which must stay under 1 MiB
    # (a version is at most ~2.5 KB: a 500-character note and a template's few parameters).
    max_versions_per_strategy: int = Field(default=200, ge=1, le=400)
    # Bots: a replica's lease on a bot lasts bot_lease_ttl_s and is renewed every bot_tick_s, so a
    # dead replica's bots are taken over within bot_lease_ttl_s + bot_tick_s.
    bot_lease_ttl_s: float = Field(default=10.0, gt=0, le=300)
    bot_tick_s: float = Field(default=1.0, gt=0, le=60)
    bot_states_interval_s: float = Field(default=15.0, gt=0, le=300, description="tl_bots recount")
    bot_history_bars: int = Field(default=500, ge=10, le=5000, description="closed bars a decision reads")
    market_data_timeout_s: float = Field(default=2.0, gt=0, le=30)
    order_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # User-code strategies: each evaluation is one sandbox-executor run under these limits.
    sandbox_time_limit_s: float = Field(default=10.0, ge=1, le=300, description="a code bot's run")
    sandbox_memory_mb: int = Field(default=256, ge=64, le=2048)
    # Schedules: each replica claims due firings every schedule_tick_s; a firing later than
    # schedule_grace_s (the service was down) is a missed one, handled by the schedule's policy.
    schedule_tick_s: float = Field(default=1.0, gt=0, le=60)
    schedule_grace_s: float = Field(default=60.0, gt=0, le=86_400)
    # A run left 'running' this long lost its replica: another takes it over (schedule_max_attempts in all).
    schedule_stale_s: float = Field(default=300.0, ge=1, le=86_400)
    schedule_max_attempts: int = Field(default=2, ge=1, le=10)
    backtest_timeout_s: float = Field(default=5.0, gt=0, le=60, description="deadline of backtest submit")
    # A market_import firing follows its import job this long (then records it as still going).
    schedule_import_wait_s: float = Field(default=30.0, ge=0, le=3600)
    analytics_timeout_s: float = Field(default=5.0, gt=0, le=60, description="a report's analytics calls")
    # A bot's own risk limits: limits_put / limits_delete at risk-monitor (no answer: 503, no bot).
    risk_monitor_timeout_s: float = Field(default=2.0, gt=0, le=30)
    risk_limits_sweep_s: float = Field(
        default=30.0, gt=0, le=3600, description="orphan bot limits removed every (bot_limit_removals)"
    )
