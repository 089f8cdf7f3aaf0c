"""A backtest of a saved strategy: its template and parameters, resolved from strategy-runner at submit.

The caller names ``strategy_id`` (and optionally ``strategy_version``, default the latest) instead of
a built-in ``strategy`` with ``params``. The version is fetched once, as the caller (so another
user's strategy is not found), and written into the run's request: the worker, a redelivery and
anyone reading the run later see exactly the template, parameters and version number that ran,
even if the strategy gets new versions or is deleted afterwards. A user-code strategy's source
goes into ``code`` (its signals come from sandbox-executor when the run is worked).
"""

from __future__ import annotations

from tradeloom.backtest_engine.domain.graph_plan import GRAPH_STRATEGY
from tradeloom.backtest_engine.domain.run_plan import CODE_STRATEGY
from tradeloom.quant.graph import EXTERNAL
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.contracts.strategy import SERVICE as STRATEGY_SERVICE
from tradeloom.shared.contracts.strategy import StrategyVersionInfo, StrategyVersionRef
from tradeloom.shared.errors import ServiceError, field_invalid
from tradeloom.shared.rpc import ServiceClient


def check_strategy_choice(body: SubmitBacktest) -> None:
    """Exactly one of a built-in (``strategy`` + ``params``), a saved one (``strategy_id``) or a
    builder ``graph``. ``code`` only comes from a saved user-code strategy."""
    if body.code is not None:
        raise field_invalid("code", "only from a saved user-code strategy: give its strategy_id")
    if body.graph is not None:
        for node in body.graph.nodes:
            if node.type == EXTERNAL:
                message = "a user indicator node runs only in a saved graph strategy: save the graph first"
                raise field_invalid(f"graph.nodes.{node.id}.indicator", message)
        for field in ("strategy", "strategy_id", "strategy_version"):
            if getattr(body, field) is not None:
                raise field_invalid(field, "give either a graph or a strategy, not both")
        if body.params:
            raise field_invalid("params", "a graph's parameters live in its nodes: leave params out")
        return
    if body.strategy_id is None:
        if body.strategy_version is not None:
            raise field_invalid("strategy_version", "only with strategy_id")
        if body.strategy is None:
            raise field_invalid("strategy", "give a built-in strategy or the strategy_id of a saved one")
        return
    if body.strategy is not None:
        raise field_invalid("strategy", "give either a built-in strategy or strategy_id, not both")
    if body.params:
        raise field_invalid("params", "a saved strategy's parameters come from its version: leave params out")


async def resolve_saved_strategy(
    client: ServiceClient, caller: CallerContext, body: SubmitBacktest
) -> SubmitBacktest:
    """``body`` with a saved strategy's template, parameters and version filled in (a built-in as is)."""
    check_strategy_choice(body)
    if body.graph is not None:
        return body.model_copy(update={"strategy": GRAPH_STRATEGY})
    if body.strategy_id is None:
        return body
    ref = StrategyVersionRef(strategy_id=body.strategy_id, version=body.strategy_version)
    try:
        version = await client.call(
            STRATEGY_SERVICE, "strategy_versions_get", ref, StrategyVersionInfo, caller=caller
        )
    except ServiceError as error:
        if error.code != "not_found":
            raise  # strategy-runner down or slow: unavailable/timeout, never a wrong 422
        field = "strategy_version" if body.strategy_version is not None else "strategy_id"
        raise field_invalid(field, "no such strategy (or version) of yours") from None
    if version.kind == "code":
        code = {"strategy": CODE_STRATEGY, "code": version.code, "params": dict(version.params),
                "strategy_version": version.version}  # fmt: skip
        return body.model_copy(update=code)
    if version.kind == "graph":
        update = {"strategy": GRAPH_STRATEGY, "graph": version.graph, "strategy_version": version.version}
        return body.model_copy(update=update)
    return body.model_copy(
        update={
            "strategy": version.template,
            "params": dict(version.params),
            "strategy_version": version.version,
        }
    )
