"""``/v1/indicators/user``: the caller's own indicators (Python code run only in the sandbox, or a
builder graph whose ``sink.output`` nodes are the outputs) and
their versions, each route one ``svc.strategy-runner.user_indicators_*``.

``POST /v1/indicators/compute`` with ``user_indicator_id`` (and ``user_indicator_version``) charts
one like a built-in. Writes take scope ``trade`` (like strategies); reads and validation ``read``.
Another user's indicator answers 404, like an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.params import READ_ERRORS, VERSION, WRITE_ERRORS, id_param
from tradeloom.gateway_auth.routes.table import Forward
from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.shared.contracts.user_indicators import (
    CODE,
    GRAPH,
    PARAMS,
    SERVICE,
    UserIndicatorCreate,
    UserIndicatorDeleted,
    UserIndicatorInfo,
    UserIndicatorList,
    UserIndicatorListRequest,
    UserIndicatorRef,
    UserIndicatorValidate,
    UserIndicatorValidation,
    UserIndicatorVersionAdd,
    UserIndicatorVersionInfo,
    UserIndicatorVersionRef,
)

router = APIRouter(prefix="/v1/indicators/user", tags=["catalogs"])
READ, TRADE = Scope.READ, Scope.TRADE
INDICATOR_ID = id_param("indicator_id", "an id from create")


class NewVersion(BaseModel):
    """The body of ``POST /v1/indicators/user/{indicator_id}/versions`` (the id is in the path)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    code: str | None = CODE
    graph: StrategyGraph | None = GRAPH
    params: dict[str, int | float | bool] = PARAMS
    note: str = Field(default="", max_length=500)


ROUTES = (
    Forward(
        "POST", "", TRADE, SERVICE, "user_indicators_create", UserIndicatorCreate, UserIndicatorInfo,
        name="create_user_indicator", status=201, body=UserIndicatorCreate, idempotent=True,
        errors=WRITE_ERRORS,
        summary="Save your own indicator: Python code defining compute(bars, params), or a graph (v1)",
        description="The code is parsed, never run here: a syntax error or no `compute(bars, params)` → "
        "422 on `body.code` naming the line; a graph's problems → 422 naming node and port. A name you "
        "already use → 409. Scope `trade`.",
    ),
    Forward(
        "GET", "", READ, SERVICE, "user_indicators_list", UserIndicatorListRequest, UserIndicatorList,
        name="list_user_indicators", page=True, cursor="user_indicator_list", errors=READ_ERRORS,
        summary="Your indicators, newest first",
    ),
    Forward(
        "POST", "/validate", READ, SERVICE, "user_indicators_validate", UserIndicatorValidate,
        UserIndicatorValidation,
        name="validate_user_indicator", body=UserIndicatorValidate, errors=READ_ERRORS,
        summary="Check an indicator's code without saving or running it (422 naming the line)",
    ),
    Forward(
        "GET", "/{indicator_id}", READ, SERVICE, "user_indicators_get", UserIndicatorRef, UserIndicatorInfo,
        name="get_user_indicator", path_params=(INDICATOR_ID,), errors=READ_ERRORS,
        summary="One of your indicators",
    ),
    Forward(
        "DELETE", "/{indicator_id}", TRADE, SERVICE, "user_indicators_delete", UserIndicatorRef,
        UserIndicatorDeleted,
        name="delete_user_indicator", path_params=(INDICATOR_ID,), errors=WRITE_ERRORS,
        summary="Delete an indicator and its versions",
    ),
    Forward(
        "POST", "/{indicator_id}/versions", TRADE, SERVICE, "user_indicators_versions_add",
        UserIndicatorVersionAdd, UserIndicatorVersionInfo,
        name="add_user_indicator_version", path_params=(INDICATOR_ID,), body=NewVersion, status=201,
        idempotent=True, errors=WRITE_ERRORS,
        summary="A new version of an indicator (earlier versions stay as they are)",
    ),
    Forward(
        "GET", "/{indicator_id}/versions/{version}", READ, SERVICE, "user_indicators_versions_get",
        UserIndicatorVersionRef, UserIndicatorVersionInfo,
        name="get_user_indicator_version", path_params=(INDICATOR_ID, VERSION), errors=READ_ERRORS,
        summary="One version of an indicator, with its code",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
