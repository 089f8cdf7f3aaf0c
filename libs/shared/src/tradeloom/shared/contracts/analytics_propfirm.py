"""Prop-firm (funded account) evaluations of analytics (``svc.analytics.prop_*``).

A rule set is data: presets shipped with analytics (each with its source) and the caller's own.
An evaluation measures an account, bot or strategy's daily balances (from ``start``, the day the
evaluation began) against a rule set: passed, failed (with the breach day) or in progress, with the
distance to each limit now. Rules and their meaning: analytics' ``domain/propfirm.py``.

Error codes: ``validation_error`` 422 naming the field, ``not_found`` 404 (unknown or another
user's rule set, account, bot or strategy), ``conflict`` 409 (a rule set name already used, or a
preset deleted).

A watched evaluation (``prop_watch``: an account or a bot, with a snapshot of the rules) is measured
again as its daily equity changes; each status change (and the first status) is one
``analytics.evt.evaluation_status.v1.<evaluation_id>`` event, written through the outbox.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.analytics import ID, SERVICE, Scope
from tradeloom.shared.contracts.spec import EventContract, RequestContract
from tradeloom.shared.contracts.wire import NonNegative, Positive, Signed
from tradeloom.shared.envelope import Event

Status = Literal["passed", "failed", "in_progress"]
RULE_SET_ID = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$", examples=["topstep-50k"])


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Rules(_Request):
    start_balance: Positive
    max_loss: Positive | None = Field(default=None, description="trails the end-of-day high, locks at start")
    daily_loss: Positive | None = Field(default=None, description="a day's loss limit")
    daily_loss_fails: bool = Field(default=False, description="false: the day is blocked, the account lives")
    profit_target: Positive | None = None
    consistency_pct: Positive | None = Field(default=None, le=100, description="best day ≤ this % of profit")
    min_trading_days: int = Field(default=0, ge=0, le=365)


class RuleSetCreate(_Request):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", examples=["my 50k"])
    rules: Rules


class RuleSetRef(_Request):
    rule_set_id: str = RULE_SET_ID


class RuleSetListRequest(_Request):
    """Presets and the caller's own rule sets."""


class RuleSetInfo(_Reply):
    rule_set_id: str
    name: str
    preset: bool
    source: str | None = Field(default=None, description="where a preset's values come from")
    rules: Rules


class RuleSetList(_Reply):
    items: list[RuleSetInfo]


class RuleSetDeleted(_Reply):
    rule_set_id: str
    deleted: bool


class EvaluateRequest(_Request):
    scope: Scope = "account"
    id: str = ID
    rule_set_id: str = RULE_SET_ID
    start: dt.date | None = Field(
        default=None, description="the evaluation's first day (default: first fill)"
    )
    end: dt.date | None = None


class BreachInfo(_Reply):
    rule: Literal["max_loss", "daily_loss"]
    day: dt.date
    value: Signed = Field(description="the balance (max_loss) or the day's PnL (daily_loss)")
    limit: Signed
    fails: bool
    at: dt.datetime | None = Field(
        default=None, description="an intraday breach: when the low was seen; null: at the day's close"
    )


class EvaluationReply(_Reply):
    scope: Scope
    id: str
    rule_set_id: str
    status: Status
    balance: Signed
    profit: Signed
    high: Signed = Field(description="highest end-of-day balance")
    floor: Signed | None = Field(description="the maximum-loss floor now")
    trading_days: int
    best_day: Signed
    failed_on: dt.date | None
    passed_on: dt.date | None
    breaches: list[BreachInfo]
    distances: dict[str, NonNegative | Signed] = Field(
        description="room left before max_loss/daily_loss; what is missing to profit_target, consistency, "
        "min_trading_days"
    )


EVALUATION_ID = Field(min_length=1, max_length=64, pattern=r"^e-[a-f0-9]+$", examples=["e-0123abcd"])


class WatchRequest(_Request):
    scope: Literal["account", "bot"] = "account"
    id: str = ID
    rule_set_id: str = RULE_SET_ID
    start: dt.date | None = Field(
        default=None, description="the evaluation's first day (default: first fill)"
    )


class WatchRef(_Request):
    evaluation_id: str = EVALUATION_ID


class WatchListRequest(_Request):
    """The caller's watched evaluations."""


class WatchInfo(_Reply):
    evaluation_id: str
    scope: Literal["account", "bot"]
    id: str
    rule_set_id: str
    start: dt.date | None
    status: Status
    failed_on: dt.date | None
    passed_on: dt.date | None
    updated_at: dt.datetime


class WatchList(_Reply):
    items: list[WatchInfo]


class WatchDeleted(_Reply):
    evaluation_id: str
    deleted: bool


class EvaluationStatusChanged(Event):
    """A watched evaluation's status changed (or was first measured), on
    ``analytics.evt.evaluation_status.v1.<evaluation_id>``."""

    domain: ClassVar[str] = "analytics"
    name: ClassVar[str] = "evaluation_status"
    major: ClassVar[int] = 1

    user_id: str
    evaluation: WatchInfo
    previous_status: Status | None = None


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


REQUESTS: tuple[RequestContract, ...] = (
    _rq("prop_rule_sets_list", RuleSetListRequest, RuleSetList, "Preset and own prop-firm rule sets."),
    _rq("prop_rule_sets_create", RuleSetCreate, RuleSetInfo, "Store a rule set of the caller's."),
    _rq("prop_rule_sets_delete", RuleSetRef, RuleSetDeleted, "Delete one of the caller's rule sets."),
    _rq("prop_evaluate", EvaluateRequest, EvaluationReply, "Evaluate an account, bot or strategy."),
    _rq("prop_watch", WatchRequest, WatchInfo, "Watch an evaluation: an event on every status change."),
    _rq("prop_watches_list", WatchListRequest, WatchList, "The caller's watched evaluations."),
    _rq("prop_unwatch", WatchRef, WatchDeleted, "Stop watching an evaluation."),
)
EVENTS: tuple[EventContract, ...] = (
    EventContract(
        EvaluationStatusChanged, "ANALYTICS", ("evaluation_id",), "A prop-firm evaluation's status."
    ),
)
