"""Prop-firm rule sets (presets from ``presets/prop_firm_rule_sets.json``, the caller's own in
Postgres) and evaluations of an account, bot or strategy against one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.api_performance import PerformanceApi
from tradeloom.analytics.domain import propfirm
from tradeloom.analytics.store.intraday_store import IntradayStore
from tradeloom.analytics.store.rule_sets_store import RuleSetsStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics import RangeRequest
from tradeloom.shared.contracts.analytics_propfirm import (
    BreachInfo,
    EvaluateRequest,
    EvaluationReply,
    Rules,
    RuleSetCreate,
    RuleSetDeleted,
    RuleSetInfo,
    RuleSetList,
    RuleSetListRequest,
    RuleSetRef,
)
from tradeloom.shared.errors import Conflict, NotFound, require_user


def load_presets() -> dict[str, RuleSetInfo]:
    """The shipped presets, validated like a user's rule set."""
    text = resources.files("tradeloom.analytics").joinpath("presets/prop_firm_rule_sets.json").read_text()
    return {item["rule_set_id"]: RuleSetInfo(preset=True, **item) for item in json.loads(text)["rule_sets"]}


def domain_rules(rules: Rules) -> propfirm.Rules:
    return propfirm.Rules(
        start_balance=rules.start_balance, max_loss=rules.max_loss, daily_loss=rules.daily_loss,
        daily_loss_fails=rules.daily_loss_fails, profit_target=rules.profit_target,
        consistency_pct=rules.consistency_pct, min_trading_days=rules.min_trading_days,
    )  # fmt: skip


def with_low(day: Any, pnl: Decimal, trades: int, low: tuple[Decimal, Any] | None) -> propfirm.Day:
    """A day of the evaluation, with its intraday low when one was observed."""
    if low is None:
        return propfirm.Day(day, pnl, trades)
    return propfirm.Day(day, pnl, trades, low=low[0], low_at=low[1])


class PropFirmApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        store: RuleSetsStore,
        performance: PerformanceApi,
        intraday: IntradayStore,
    ) -> None:
        self._engine = engine
        self.store = store
        self.performance = performance
        self.intraday = intraday
        self.presets = load_presets()

    @staticmethod
    def _info(row: Any) -> RuleSetInfo:
        return RuleSetInfo(rule_set_id=row.rule_set_id, name=row.name, preset=False, rules=Rules(**row.rules))

    async def list(self, caller: CallerContext, body: RuleSetListRequest) -> RuleSetList:
        user = require_user(caller)
        async with self._engine().connect() as conn:
            own = await self.store.of_user(conn, user)
        return RuleSetList(items=[*self.presets.values(), *(self._info(row) for row in own)])

    async def create(self, caller: CallerContext, body: RuleSetCreate) -> RuleSetInfo:
        user = require_user(caller)
        rule_set_id = f"u-{uuid.uuid4().hex[:24]}"
        rules = body.rules.model_dump(mode="json")
        async with self._engine().begin() as conn:
            if not await self.store.create(conn, rule_set_id, user, body.name, rules):
                raise Conflict(f"a rule set named {body.name!r} already exists")
        return RuleSetInfo(rule_set_id=rule_set_id, name=body.name, preset=False, rules=body.rules)

    async def delete(self, caller: CallerContext, body: RuleSetRef) -> RuleSetDeleted:
        user = require_user(caller)
        if body.rule_set_id in self.presets:
            raise Conflict("presets cannot be deleted")
        async with self._engine().begin() as conn:
            if not await self.store.delete(conn, user, body.rule_set_id):
                raise NotFound(f"rule set {body.rule_set_id} not found")
        return RuleSetDeleted(rule_set_id=body.rule_set_id, deleted=True)

    async def rules_of(self, user: str, rule_set_id: str) -> Rules:
        preset = self.presets.get(rule_set_id)
        if preset is not None:
            return preset.rules
        async with self._engine().connect() as conn:
            row = await self.store.get(conn, user, rule_set_id)
        if row is None:
            raise NotFound(f"rule set {rule_set_id} not found")
        return Rules(**row.rules)

    async def evaluate(self, caller: CallerContext, body: EvaluateRequest) -> EvaluationReply:
        user = require_user(caller)
        rules = await self.rules_of(user, body.rule_set_id)
        scope = RangeRequest(
            scope=body.scope, id=body.id, start=body.start, end=body.end, capital=rules.start_balance
        )
        points, _ = await self.performance.series(caller, scope)
        lows: dict[tuple[str, Any], tuple[Decimal, Any]] = {}
        if body.scope != "strategy":  # a strategy's bots' lows need not coincide: closes only
            async with self._engine().connect() as conn:
                lows = await self.intraday.lows(conn, body.scope, [body.id], body.start, body.end)
        days = [
            with_low(point.day, point.pnl, point.trades, lows.get((body.id, point.day))) for point in points
        ]
        result = propfirm.evaluate(domain_rules(rules), days)
        return EvaluationReply(
            scope=body.scope, id=body.id, rule_set_id=body.rule_set_id, status=result.status,
            balance=result.balance, profit=result.profit, high=result.high, floor=result.floor,
            trading_days=result.trading_days, best_day=result.best_day, failed_on=result.failed_on,
            passed_on=result.passed_on,
            breaches=[
                BreachInfo(rule=b.rule, day=b.day, value=b.value, limit=b.limit, fails=b.fails, at=b.at)
                for b in result.breaches
            ],
            distances={name: Decimal(value) for name, value in result.distances.items()},
        )  # fmt: skip
