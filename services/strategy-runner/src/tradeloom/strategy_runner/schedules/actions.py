"""What a claimed firing does, as the schedule's owner: submit a backtest, start or stop a bot,
import market data (market-data's resumable job, followed until it ends or ``import_wait_s``
passed), or store a performance report (analytics' metrics and equity curve)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics import EquityCurve, MetricsReply, RangeRequest
from tradeloom.shared.contracts.backtest import BacktestAccepted, SubmitBacktest
from tradeloom.shared.contracts.bots import BotRef
from tradeloom.shared.contracts.market_data_imports import (
    ImportJob,
    ImportsListRequest,
    ImportsReply,
    ImportStart,
)
from tradeloom.shared.contracts.schedules import MarketImportAction, PerformanceReport, ReportAction
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient
from tradeloom.strategy_runner.bots.api_bots import BotsApi
from tradeloom.strategy_runner.domain.schedule_actions import equity_summary, import_window, report_days

log = logging.getLogger(__name__)
IMPORT_POLL_S = 0.5
ADMIN = frozenset({"admin"})


@dataclass(frozen=True)
class RunResult:
    outcome: str
    detail: str
    backtest_id: str | None = None
    import_id: str | None = None
    report: dict[str, Any] | None = None


@dataclass(frozen=True)
class ActionTimeouts:
    backtest_s: float
    import_wait_s: float
    analytics_s: float
    market_data_s: float


class ScheduleActions:
    def __init__(self, client: Callable[[], ServiceClient], bots: BotsApi, timeouts: ActionTimeouts) -> None:
        self._client = client
        self._bots = bots
        self.t = timeouts

    async def run(self, user_id: str, action: dict[str, Any], scheduled_for: datetime) -> RunResult:
        """The outcome of one firing; a failure is a result (the loop goes on), never an exception."""
        caller = CallerContext(user_id=user_id)
        try:
            kind = action["kind"]
            if kind == "backtest":
                return await self._backtest(caller, action)
            if kind == "market_import":
                return await self._import(
                    user_id, MarketImportAction.model_validate(action["market_import"]), scheduled_for
                )
            if kind == "report":
                return await self._report(
                    caller, ReportAction.model_validate(action["report"]), scheduled_for
                )
            ref = BotRef(bot_id=action["bot_id"])
            bot = await (self._bots.start if kind == "bot_start" else self._bots.stop)(caller, ref)
            return RunResult("succeeded", f"bot {bot.bot_id} {bot.status}")
        except ServiceError as error:
            return RunResult("failed", f"{error.code}: {error}")
        except Exception as error:  # an action's bug must not stop the loop; the run says what failed
            log.exception("schedule action %s failed", action.get("kind"))
            return RunResult("failed", f"internal: {type(error).__name__}")

    async def _backtest(self, caller: CallerContext, action: dict[str, Any]) -> RunResult:
        accepted = await self._client().call(
            "backtest-engine", "submit", SubmitBacktest.model_validate(action["backtest"]),
            BacktestAccepted, caller=caller, timeout_s=self.t.backtest_s,
        )  # fmt: skip
        return RunResult(
            "succeeded", f"backtest {accepted.backtest_id} queued", backtest_id=accepted.backtest_id
        )

    async def _import(self, user_id: str, action: MarketImportAction, firing: datetime) -> RunResult:
        """Imports are admins' (the data is shared): only an admin may create such a schedule, and
        its firings run with that role."""
        caller = CallerContext(user_id=user_id, roles=ADMIN)
        from_ns, to_ns = import_window(firing, action.lookback_s)
        start = ImportStart(venue=action.venue, symbol=action.symbol, from_ns=from_ns, to_ns=to_ns)
        job = await self._client().call(
            "market-data", "imports_start", start, ImportJob, caller=caller, timeout_s=self.t.market_data_s
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.t.import_wait_s
        while job.status in ("queued", "running") and loop.time() < deadline:
            await asyncio.sleep(IMPORT_POLL_S)
            listed = await self._client().call(
                "market-data", "imports_list", ImportsListRequest(import_id=job.import_id, limit=1),
                ImportsReply, caller=caller, timeout_s=self.t.market_data_s,
            )  # fmt: skip
            job = listed.imports[0]
        about = f"import {job.import_id} of {job.symbol} at {job.venue}: {job.status}"
        if job.status == "failed":
            return RunResult("failed", f"{about}: {job.error}", import_id=job.import_id)
        if job.status == "done":
            about += f", {job.stored} candle(s) stored, {len(job.gaps)} gap(s)"
        else:
            about += " (still going: GET /v1/market/imports)"
        return RunResult("succeeded", about, import_id=job.import_id)

    async def _report(self, caller: CallerContext, action: ReportAction, firing: datetime) -> RunResult:
        start, end = report_days(firing, action)
        body = RangeRequest(scope=action.scope, id=action.id, start=start, end=end, capital=action.capital)
        client = self._client()
        metrics = await client.call(
            "analytics", "metrics", body, MetricsReply, caller=caller, timeout_s=self.t.analytics_s
        )
        curve = await client.call(
            "analytics", "equity", body, EquityCurve, caller=caller, timeout_s=self.t.analytics_s
        )
        report = PerformanceReport(
            scope=action.scope, id=action.id, start=start, end=end, capital=metrics.capital,
            metrics=metrics.metrics, equity=equity_summary(curve),
        )  # fmt: skip
        return RunResult(
            "succeeded", f"report of {action.scope} {action.id} over {start}..{end}: {metrics.days} day(s)",
            report=report.model_dump(mode="json"),
        )  # fmt: skip
