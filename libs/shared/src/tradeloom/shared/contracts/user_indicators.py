"""A user's own indicators (``svc.strategy-runner.user_indicators_*``): Python code run only in
sandbox-executor (kind ``code``) or a builder graph whose ``sink.output`` nodes are the outputs,
named by their node ids (kind ``graph``), saved with immutable numbered versions like a strategy.

The module defines ``compute(bars, params)``: ``bars`` a dict of numpy arrays (``open``, ``high``,
``low``, ``close``, ``volume`` float64, ``time`` int64 ns, oldest first); it returns a mapping of
output name → a sequence of numbers as long as the bars (NaN: no value yet). Saving and
``user_indicators_validate`` only parse the source (a graph is compiled);
``indicators_compute`` with ``user_indicator_id`` runs it (code: in the sandbox) over the bars and
answers its outputs like a built-in.

Error codes: ``validation_error`` 422 (``code``: a syntax error or no ``compute(bars, params)``,
the message saying ``line N``, ``details`` carrying ``line`` and ``column``; ``params.<name>``;
``name``; a graph's issues in ``details.issues`` naming node and port, as for strategy graphs), ``not_found`` 404 (an unknown indicator and another user's alike), ``conflict`` 409 (a
name the caller already has, or too many versions), ``unauthorized`` 401.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.strategy_graph import StrategyGraph

SERVICE = "strategy-runner"
UserIndicatorKind = Literal["code", "graph"]
INDICATOR_ID: Any = Field(min_length=1, max_length=64, examples=["0190a5f2-7c1e-7b3a-9d4e-2f6a1b3c4d5e"])
CODE: Any = Field(
    default=None,
    min_length=1,
    max_length=65_536,
    description="kind code: a Python module defining compute(bars, params) -> {output name: numbers per bar}",
    examples=[
        "import numpy as np\n\ndef compute(bars, params):\n    return {'mid': (bars['high'] + bars['low']) / 2}\n"
    ],
)
GRAPH: Any = Field(
    default=None, description="kind graph: a builder graph whose sink.output nodes are the outputs"
)
PARAMS: Any = Field(
    default_factory=dict, max_length=32, examples=[{"window": 14}], description="numbers or booleans"
)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class UserIndicatorCreate(_Request):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", examples=["my midpoint"])
    description: str = Field(default="", max_length=2000)
    kind: UserIndicatorKind = "code"
    code: str | None = CODE
    graph: StrategyGraph | None = GRAPH
    params: dict[str, int | float | bool] = PARAMS


class UserIndicatorVersionAdd(_Request):
    indicator_id: str = INDICATOR_ID
    code: str | None = CODE
    graph: StrategyGraph | None = GRAPH
    params: dict[str, int | float | bool] = PARAMS
    note: str = Field(default="", max_length=500)


class UserIndicatorRef(_Request):
    indicator_id: str = INDICATOR_ID


class UserIndicatorVersionRef(_Request):
    indicator_id: str = INDICATOR_ID
    version: int | None = Field(default=None, ge=1, le=1_000_000, description="default: the latest")


class UserIndicatorListRequest(_Request):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=64, description="next_cursor of the previous page")


class UserIndicatorValidate(_Request):
    kind: UserIndicatorKind = "code"
    code: str | None = CODE
    graph: StrategyGraph | None = GRAPH


class UserIndicatorInfo(_Reply):
    indicator_id: str
    name: str
    kind: UserIndicatorKind = "code"
    description: str = ""
    latest_version: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime


class UserIndicatorVersionInfo(_Reply):
    indicator_id: str
    version: int = Field(ge=1)
    kind: UserIndicatorKind = "code"
    code: str | None = Field(default=None, description="kind code: the source")
    graph: StrategyGraph | None = Field(default=None, description="kind graph: the graph")
    params: dict[str, int | float | bool] = Field(description="kind code: the defaults handed to compute")
    note: str = ""
    created_at: datetime


class UserIndicatorList(_Reply):
    items: list[UserIndicatorInfo] = Field(description="newest first")
    next_cursor: str | None = None


class UserIndicatorDeleted(_Reply):
    indicator_id: str
    deleted: bool = Field(description="always true: an unknown or another user's indicator is not_found")


class UserIndicatorValidation(_Reply):
    valid: bool = Field(description="always true: invalid code is a validation_error naming the line")
    outputs: list[str] = Field(
        default_factory=list, description="kind graph: the output names (code: known once it runs)"
    )


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


REQUESTS: tuple[RequestContract, ...] = (
    _rq("user_indicators_create", UserIndicatorCreate, UserIndicatorInfo, "Save a user indicator (v1)."),
    _rq("user_indicators_list", UserIndicatorListRequest, UserIndicatorList, "The caller's indicators."),
    _rq("user_indicators_get", UserIndicatorRef, UserIndicatorInfo, "One of the caller's indicators."),
    _rq("user_indicators_delete", UserIndicatorRef, UserIndicatorDeleted, "Delete one and its versions."),
    _rq("user_indicators_versions_add", UserIndicatorVersionAdd, UserIndicatorVersionInfo, "A new version."),
    _rq("user_indicators_versions_get", UserIndicatorVersionRef, UserIndicatorVersionInfo, "One version."),
    _rq("user_indicators_validate", UserIndicatorValidate, UserIndicatorValidation, "Parse, never run."),
)
