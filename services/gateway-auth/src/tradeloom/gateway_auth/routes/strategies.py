"""``/v1/strategies``: the caller's saved strategies and their versions, each route one
``svc.strategy-runner.<op>``.

A saved strategy is a named configuration of a built-in template, or (kind ``graph``) a builder
graph checked by ``POST /v1/strategies/validate`` (node types: ``GET /v1/strategies/graph/nodes``);
its versions are immutable, so
``POST /v1/backtests`` with ``strategy_id`` and ``strategy_version`` is reproducible. Writes take
scope ``trade`` (they change what the account holds, like datasets); reads take ``read``. Another
user's strategy answers 404, like an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.params import READ_ERRORS, VERSION, WRITE_ERRORS, id_param
from tradeloom.gateway_auth.routes.table import Forward, Param
from tradeloom.shared.contracts.strategy import (
    NAME,
    PARAMS,
    SERVICE,
    StrategyCreate,
    StrategyDeleted,
    StrategyDuplicate,
    StrategyInfo,
    StrategyKind,
    StrategyList,
    StrategyListRequest,
    StrategyRef,
    StrategyVersionAdd,
    StrategyVersionInfo,
    StrategyVersionList,
    StrategyVersionRef,
)
from tradeloom.shared.contracts.strategy_graph import (
    GraphNodeCatalog,
    GraphNodesRequest,
    GraphValidateRequest,
    GraphValidation,
    StrategyGraph,
)

router = APIRouter(prefix="/v1/strategies", tags=["strategies"])
READ, TRADE = Scope.READ, Scope.TRADE
STRATEGY_ID = id_param("strategy_id", "a strategy id from create")


class NewVersion(BaseModel):
    """The body of ``POST /v1/strategies/{strategy_id}/versions`` (the id is in the path)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    params: dict[str, int | float | bool] = PARAMS
    graph: StrategyGraph | None = Field(default=None, description="the new graph (a strategy of kind graph)")
    note: str = Field(default="", max_length=500, examples=["slower exit"])


class Duplicate(BaseModel):
    """The body of ``POST /v1/strategies/{strategy_id}/duplicate``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    version: int | None = Field(default=None, ge=1, le=1_000_000, description="default: the latest")
    name: str = NAME
    description: str | None = Field(default=None, max_length=1000, description="default: the original's")


ROUTES = (
    Forward(
        "POST", "", TRADE, SERVICE, "strategies_create", StrategyCreate, StrategyInfo,
        name="create_strategy", status=201, body=StrategyCreate, idempotent=True, errors=WRITE_ERRORS,
        summary="Save a strategy: a built-in template with parameters (version 1)",
        description="Scope `trade`; takes `Idempotency-Key`. A name the caller already uses → 409.",
    ),
    Forward(
        "GET", "", READ, SERVICE, "strategies_list", StrategyListRequest, StrategyList,
        name="list_strategies", page=True, cursor="strategy_list", errors=READ_ERRORS,
        summary="The caller's strategies, newest first",
        query=(
            Param("kind", StrategyKind | None, Query(), None),
            Param("template", str | None, Query(min_length=1, max_length=64), None),
            Param("name", str | None, Query(min_length=1, max_length=100, description="name contains"), None),
        ),
    ),
    Forward(
        "GET", "/{strategy_id}", READ, SERVICE, "strategies_get", StrategyRef, StrategyInfo,
        name="get_strategy", path_params=(STRATEGY_ID,), errors=READ_ERRORS, summary="One saved strategy",
    ),
    Forward(
        "DELETE", "/{strategy_id}", TRADE, SERVICE, "strategies_delete", StrategyRef, StrategyDeleted,
        name="delete_strategy", path_params=(STRATEGY_ID,), errors=WRITE_ERRORS,
        summary="Delete a strategy and its versions",
        description="Backtests that ran it keep the template, parameters and version they ran. "
        "Scope `trade`.",
    ),
    Forward(
        "POST", "/{strategy_id}/versions", TRADE, SERVICE, "strategy_versions_add", StrategyVersionAdd,
        StrategyVersionInfo,
        name="add_version", path_params=(STRATEGY_ID,), body=NewVersion, status=201, idempotent=True,
        errors=WRITE_ERRORS,
        summary="A new version of a strategy (new parameters; earlier versions stay as they are)",
        description="Scope `trade`; takes `Idempotency-Key`.",
    ),
    Forward(
        "GET", "/{strategy_id}/versions", READ, SERVICE, "strategy_versions_list", StrategyRef,
        StrategyVersionList,
        name="list_versions", path_params=(STRATEGY_ID,), errors=READ_ERRORS,
        summary="Every version of a strategy, oldest first",
    ),
    Forward(
        "POST", "/validate", READ, SERVICE, "strategies_validate", GraphValidateRequest, GraphValidation,
        name="validate_graph", body=GraphValidateRequest, errors=READ_ERRORS,
        summary="Check a builder graph without saving it",
        description="422 lists every problem in `details.issues`, each naming its node and port (or "
        "parameter): unknown node type, wrong port type, cycle, unreachable sink, missing input, "
        "parameter out of range…",
    ),
    Forward(
        "GET", "/graph/nodes", READ, SERVICE, "strategy_graph_nodes", GraphNodesRequest, GraphNodeCatalog,
        name="graph_node_types", errors=READ_ERRORS,
        summary="The node types of builder graphs: ports (number or bool series) and parameter schemas",
    ),
    Forward(
        "POST", "/{strategy_id}/duplicate", TRADE, SERVICE, "strategies_duplicate", StrategyDuplicate,
        StrategyInfo,
        name="duplicate_strategy", path_params=(STRATEGY_ID,), body=Duplicate, status=201, idempotent=True,
        errors=WRITE_ERRORS,
        summary="Copy a version (default the latest) of a strategy into a new strategy (version 1)",
        description="Scope `trade`; takes `Idempotency-Key`. A name the caller already uses → 409.",
    ),
    Forward(
        "GET", "/{strategy_id}/versions/{version}", READ, SERVICE, "strategy_versions_get",
        StrategyVersionRef, StrategyVersionInfo,
        name="get_version", path_params=(STRATEGY_ID, VERSION), errors=READ_ERRORS,
        summary="One version of a strategy",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
