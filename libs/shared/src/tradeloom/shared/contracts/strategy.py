"""Requests of strategy-runner's strategy store (``svc.strategy-runner.strategies_*``).

A saved strategy is a named configuration of a built-in template (``tradeloom.quant``'s strategies:
``sma_cross``, ``rsi_reversion``…) with parameters checked against the template's schema. Its
versions are immutable and numbered from 1; a change is a new version, so a backtest that names
``strategy_id`` and ``strategy_version`` is reproducible. A strategy of ``kind`` ``graph`` is a
builder graph instead (``contracts.strategy_graph``; its ``template`` reads ``graph``): each
version holds a whole graph, validated and compiled before it is saved. A strategy of ``kind``
``code`` is the user's own Python module (its ``template`` reads ``code``): each version holds the
source, checked for syntax (never run) before it is saved; its signals are computed only inside
sandbox-executor (``generate_signals(bars, params)``, see strategy-runner's README).

Error codes: ``validation_error`` 422 naming the field (``template``, ``params.fast``, ``name``,
``graph``… ; an invalid graph also lists ``details.issues``, each naming its node and port; bad
user code names ``code`` with ``details.line`` and ``details.column``),
``unauthorized`` 401 (no user), ``not_found`` 404 (a strategy or version that does not exist or
belongs to someone else), ``conflict`` 409 (a name the caller already uses).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.strategy_graph import (
    GraphNodeCatalog,
    GraphNodesRequest,
    GraphValidateRequest,
)
from tradeloom.shared.contracts.strategy_graph import GraphValidation, StrategyGraph

SERVICE = "strategy-runner"
STRATEGY_ID = Field(min_length=1, max_length=64, examples=["0190f0a0-0000-7000-8000-000000000001"])
NAME = Field(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", examples=["btc trend 10-30"])
PARAMS: Any = Field(
    default_factory=dict,
    max_length=32,
    examples=[{"fast": 10, "slow": 30}],
    description="numbers or booleans, checked against the template's parameter schema",
)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


StrategyKind = Literal["template", "graph", "code"]
KIND: Any = Field(
    default="template",
    description="template: a built-in with params; graph: a builder graph; code: the user's Python module",
)
MAX_CODE_CHARS = 65_536
CODE: Any = Field(
    default=None,
    min_length=1,
    max_length=MAX_CODE_CHARS,
    examples=["def generate_signals(bars, params):\n    return {'entry_long': bars['close'] > 100}\n"],
    description="kind code: Python source defining generate_signals(bars, params) (at most 64 KiB)",
)


class StrategyCreate(_Request):
    """A new saved strategy with its version 1: a ``template`` with ``params``, (``kind`` graph)
    a ``graph``, or (``kind`` code) ``code`` with optional ``params`` handed to it."""

    name: str = NAME
    kind: StrategyKind = KIND
    template: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        examples=["sma_cross"],
        description="a built-in (kind template)",
    )
    params: dict[str, Any] = PARAMS
    graph: StrategyGraph | None = Field(default=None, description="the builder graph (kind graph)")
    code: str | None = CODE
    description: str = Field(default="", max_length=1000)


class StrategyVersionAdd(_Request):
    """A new version (the next number) of one of the caller's strategies: new parameters (kind
    template) or a new graph (kind graph)."""

    strategy_id: str = STRATEGY_ID
    params: dict[str, Any] = PARAMS
    graph: StrategyGraph | None = Field(default=None, description="the new graph (kind graph only)")
    code: str | None = CODE
    note: str = Field(default="", max_length=500, examples=["slower exit"])


class StrategyRef(_Request):
    strategy_id: str = STRATEGY_ID


class StrategyVersionRef(_Request):
    strategy_id: str = STRATEGY_ID
    version: int | None = Field(default=None, ge=1, le=1_000_000, description="default: the latest")


class StrategyListRequest(_Request):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=64, description="next_cursor of the previous page")
    kind: StrategyKind | None = Field(default=None, description="only strategies of this kind")
    template: str | None = Field(default=None, min_length=1, max_length=64, description="only this template")
    name: str | None = Field(
        default=None, min_length=1, max_length=100, description="name contains (any case)"
    )


class StrategyVersionInfo(_Reply):
    strategy_id: str
    version: int = Field(ge=1)
    kind: StrategyKind = KIND
    template: str
    params: dict[str, int | float | bool] = Field(description="validated, with the template's defaults")
    graph: StrategyGraph | None = Field(default=None, description="kind graph: the version's graph")
    code: str | None = Field(default=None, description="kind code: the version's source")
    note: str = ""
    created_at: datetime


class StrategyInfo(_Reply):
    strategy_id: str
    name: str
    kind: StrategyKind = KIND
    template: str
    description: str = ""
    latest_version: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime


class StrategyList(_Reply):
    items: list[StrategyInfo]
    next_cursor: str | None = None


class StrategyVersionList(_Reply):
    strategy_id: str
    items: list[StrategyVersionInfo] = Field(description="every version, oldest first")


class StrategyDuplicate(_Request):
    """A new strategy (of the caller) whose version 1 is a copy of one version of another."""

    strategy_id: str = STRATEGY_ID
    version: int | None = Field(default=None, ge=1, le=1_000_000, description="default: the latest")
    name: str = NAME
    description: str | None = Field(default=None, max_length=1000, description="default: the original's")


class StrategyDeleted(_Reply):
    strategy_id: str
    deleted: bool = Field(description="always true: an unknown or another user's strategy is not_found")


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


EVENTS: tuple[()] = ()
REQUESTS: tuple[RequestContract, ...] = (
    _rq("strategies_create", StrategyCreate, StrategyInfo, "Save a strategy (version 1)."),
    _rq("strategies_list", StrategyListRequest, StrategyList, "The caller's strategies, newest first."),
    _rq("strategies_get", StrategyRef, StrategyInfo, "One of the caller's strategies."),
    _rq("strategies_delete", StrategyRef, StrategyDeleted, "Delete a strategy and its versions."),
    _rq("strategy_versions_add", StrategyVersionAdd, StrategyVersionInfo, "A new version: new parameters."),
    _rq("strategy_versions_list", StrategyRef, StrategyVersionList, "Every version of a strategy."),
    _rq("strategy_versions_get", StrategyVersionRef, StrategyVersionInfo, "One version (default latest)."),
)
# Builder-graph and copy operations (registered by strategy-runner's ``api_builder``).
BUILDER_REQUESTS: tuple[RequestContract, ...] = (
    _rq("strategies_validate", GraphValidateRequest, GraphValidation, "Check a graph without saving it."),
    _rq("strategies_duplicate", StrategyDuplicate, StrategyInfo, "Copy a version into a new strategy."),
    _rq("strategy_graph_nodes", GraphNodesRequest, GraphNodeCatalog, "The node types of builder graphs."),
)
