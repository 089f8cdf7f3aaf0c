"""An optimisation request's parameter space checked against the strategy's schema and turned into
the candidate list ``tradeloom.quant.optimise`` evaluates — or a clear error naming the field.

Pure. Work is bounded here (the limits are the contract's, so the API documents what is enforced):
at most ``MAX_COMBINATIONS`` parameter sets per search (grid product or
random draws) and ``MAX_VALUES_PER_PARAM`` grid points per parameter; the worker also bounds the
total bar evaluations (candidates × bars × folds) before it starts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tradeloom.quant.optimise import grid_candidates, random_candidates
from tradeloom.quant.optimise.compiled import STRATEGY_IDS
from tradeloom.quant.strategies import BUILTIN_STRATEGIES, InvalidParameters
from tradeloom.quant.strategies.schema import ParamSpec, ParamValue
from tradeloom.shared.contracts.backtest_optimise import (
    MAX_COMBINATIONS,
    MAX_VALUES_PER_PARAM,
    OptimiseSpec,
    ParamRange,
    WalkForwardSpec,
)


@dataclass(frozen=True)
class SearchPlan:
    method: str
    metric: str
    maximize: bool
    candidates: list[dict[str, object]]  # full parameter sets (fixed params + the varied ones)
    varied: tuple[str, ...]
    walk_forward: WalkForwardSpec | None


def _check_value(spec: ParamSpec, field: str, value: object) -> ParamValue:
    """A value the schema accepts for ``spec`` (type and range; cross-field rules apply per candidate)."""
    if spec.kind is bool:
        if not isinstance(value, bool):
            raise InvalidParameters(field, "must be true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidParameters(field, f"must be a finite number ({spec.kind.__name__})")
    if spec.kind is int and value != int(value):
        raise InvalidParameters(field, "must be a whole number")
    if spec.minimum is not None and value < spec.minimum:
        raise InvalidParameters(field, f"must be at least {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise InvalidParameters(field, f"must be at most {spec.maximum:g}")
    return spec.kind(value)


def _bounds(spec: ParamSpec, field: str, space: ParamRange) -> tuple[ParamValue, ParamValue]:
    if space.min is None or space.max is None:
        missing = "min" if space.min is None else "max"
        raise InvalidParameters(f"{field}.{missing}", "give values, or both min and max")
    if spec.kind is bool:
        raise InvalidParameters(f"{field}.min", "a boolean parameter takes values: [true, false]")
    low = _check_value(spec, f"{field}.min", space.min)
    high = _check_value(spec, f"{field}.max", space.max)
    if high < low:
        raise InvalidParameters(f"{field}.max", "must be at least min")
    return low, high


def grid_values(spec: ParamSpec, field: str, space: ParamRange) -> list[ParamValue]:
    """The grid points of one parameter: its ``values``, or ``min, min + step, …`` up to ``max``."""
    if space.values is not None:
        if space.min is not None or space.max is not None or space.step is not None:
            raise InvalidParameters(f"{field}.values", "give values or min/max/step, not both")
        values = [_check_value(spec, f"{field}.values", v) for v in space.values]
        return list(dict.fromkeys(values))
    low, high = _bounds(spec, field, space)
    if space.step is None:
        raise InvalidParameters(f"{field}.step", "a grid range needs a step")
    if spec.kind is int and space.step != int(space.step):
        raise InvalidParameters(f"{field}.step", "must be a whole number for an integer parameter")
    points = math.floor((float(high) - float(low)) / space.step + 1e-9) + 1
    if points > MAX_VALUES_PER_PARAM:
        raise InvalidParameters(
            f"{field}.step", f"gives {points} values; at most {MAX_VALUES_PER_PARAM} per parameter"
        )
    return [spec.kind(round(float(low) + i * space.step, 12)) for i in range(points)]


def _random_choice(spec: ParamSpec, field: str, space: ParamRange) -> tuple[float, float] | list[object]:
    if space.step is not None:
        raise InvalidParameters(f"{field}.step", "only a grid takes a step (random draws from min..max)")
    if space.values is not None:
        if space.min is not None or space.max is not None:
            raise InvalidParameters(f"{field}.values", "give values or min/max, not both")
        return [_check_value(spec, f"{field}.values", v) for v in space.values]
    low, high = _bounds(spec, field, space)
    return (float(low), float(high))


def plan_search(strategy: str, params: dict[str, ParamValue], spec: OptimiseSpec) -> SearchPlan:
    """Candidates for ``spec``: every grid combination, or ``count`` seeded random draws."""
    if strategy not in STRATEGY_IDS:
        known = ", ".join(sorted(STRATEGY_IDS))
        raise InvalidParameters("strategy", f"{strategy} cannot be optimised: use one of {known}")
    schema = {p.name: p for p in BUILTIN_STRATEGIES[strategy].params}
    for name in spec.space:
        if name not in schema:
            raise InvalidParameters(f"optimise.space.{name}", f"unknown parameter for strategy {strategy}")
    if spec.method == "grid":
        if spec.count is not None:
            raise InvalidParameters("optimise.count", "only a random search takes count")
        grid = {n: grid_values(schema[n], f"optimise.space.{n}", r) for n, r in spec.space.items()}
        total = math.prod(len(values) for values in grid.values())
        if total > MAX_COMBINATIONS:
            raise InvalidParameters(
                "optimise.space",
                f"the grid has {total} combinations; at most {MAX_COMBINATIONS} (widen steps, narrow ranges)",
            )
        varied: Sequence[dict[str, object]] = grid_candidates(grid)
    else:
        if spec.count is None:
            raise InvalidParameters("optimise.count", "a random search needs count")
        space = {n: _random_choice(schema[n], f"optimise.space.{n}", r) for n, r in spec.space.items()}
        varied = random_candidates(strategy, space, spec.count, spec.seed)
    candidates: list[dict[str, object]] = [{**params, **combo} for combo in varied]
    return SearchPlan(
        spec.method, spec.metric, spec.maximize, candidates, tuple(spec.space), spec.walk_forward
    )
