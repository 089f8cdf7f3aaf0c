"""Dataset preprocessing steps, pure: bars in, bars and derived float columns out, with what each
step did. The rules are stated in ``contracts.market_data_preprocess`` (one docstring per step).

Prices stay ``Decimal`` through the bar-changing steps (adjustment multiplies them exactly, then
rounds to 12 significant digits); derived columns are float64 (``None`` where undefined).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any

import numpy as np

from tradeloom.market_data.domain.candles import Bar
from tradeloom.market_data.domain.factor_splits import volume_multipliers
from tradeloom.quant.indicators.catalog import checked_indicator_params, compute_indicator, indicator_spec
from tradeloom.quant.strategies.schema import InvalidParameters

BAR_STEPS = ("fill_gaps", "drop_gaps", "remove_outliers", "adjust")
MAD_SCALE = 1.4826  # makes the MAD a consistent estimator of a normal distribution's sigma
PRICE_DIGITS = 12


class StepError(ValueError):
    """A step that cannot run: ``field`` names it (``steps[2].k``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Frame:
    bars: list[Bar]
    interval_ns: int | None
    columns: dict[str, list[float | None]] = field(default_factory=dict)
    # the source dataset's own columns (an upload's factor, a preprocessed dataset's derived ones),
    # by bar time: steps that add or remove bars do not move them
    source_columns: dict[str, dict[int, float | None]] = field(default_factory=dict)


def fill_gaps(frame: Frame) -> dict[str, Any]:
    step = frame.interval_ns
    if not step or len(frame.bars) < 2:
        return {"bars_added": 0}
    out: list[Bar] = []
    for bar in frame.bars:
        if out:
            previous = out[-1]
            ts = previous.open_ns + step
            while ts < bar.open_ns:
                c = previous.close
                out.append(Bar(ts, c, c, c, c, Decimal(0), 0))
                ts += step
        out.append(bar)
    added = len(out) - len(frame.bars)
    frame.bars = out
    return {"bars_added": added}


def drop_gaps(frame: Frame) -> dict[str, Any]:
    step = frame.interval_ns
    if not step or not frame.bars:
        return {"bars_removed": 0}
    best = (0, 0)  # [start, end) of the longest run, the latest on ties
    start = 0
    for i in range(1, len(frame.bars) + 1):
        if i == len(frame.bars) or frame.bars[i].open_ns - frame.bars[i - 1].open_ns != step:
            if i - start >= best[1] - best[0]:
                best = (start, i)
            start = i
    removed = len(frame.bars) - (best[1] - best[0])
    frame.bars = frame.bars[best[0] : best[1]]
    return {
        "bars_removed": removed,
        "kept_from_ns": frame.bars[0].open_ns,
        "kept_to_ns": frame.bars[-1].open_ns,
    }


def outlier_scores(returns: list[float], rule: str) -> list[float]:
    """|r − centre| / spread per return; all zero when the spread is zero."""
    if len(returns) < 2:
        return [0.0] * len(returns)
    if rule == "zscore":
        centre, spread = statistics.fmean(returns), statistics.stdev(returns)
    else:
        centre = statistics.median(returns)
        spread = MAD_SCALE * statistics.median(abs(r - centre) for r in returns)
    if spread == 0:
        return [0.0] * len(returns)
    return [abs(r - centre) / spread for r in returns]


def remove_outliers(frame: Frame, rule: str, k: float) -> dict[str, Any]:
    closes = [float(bar.close) for bar in frame.bars]
    returns = [b / a - 1 for a, b in pairwise(closes)]
    scores = outlier_scores(returns, rule)
    flagged = {i + 1 for i, score in enumerate(scores) if score > k}  # return i belongs to bar i + 1
    removed = [frame.bars[i].open_ns for i in sorted(flagged)]
    frame.bars = [bar for i, bar in enumerate(frame.bars) if i not in flagged]
    return {"bars_removed": len(removed), "removed_ns": removed[:100]}


def _round(value: Decimal) -> Decimal:
    return round(value, max(0, PRICE_DIGITS - value.adjusted() - 1)).normalize() if value else value


def adjust(frame: Frame, actions: list[dict[str, Any]]) -> dict[str, Any]:
    bars = frame.bars
    price_factor = [Decimal(1)] * len(bars)
    volume_factor = [Decimal(1)] * len(bars)
    applied = 0
    for action in sorted(actions, key=lambda a: a["ts_ns"]):
        before = [i for i, bar in enumerate(bars) if bar.open_ns < action["ts_ns"]]
        if not before or len(before) == len(bars):
            continue  # an ex-date outside the data changes nothing in it
        factor, volume = Decimal(1), Decimal(1)
        if action.get("split") is not None:
            factor /= Decimal(action["split"])
            volume *= Decimal(action["split"])
        if action.get("dividend") is not None:
            last_close = bars[before[-1]].close
            if Decimal(action["dividend"]) >= last_close:
                raise StepError(
                    "actions", f"dividend {action['dividend']} is not below the close {last_close}"
                )
            factor *= 1 - Decimal(action["dividend"]) / last_close
        for i in before:
            price_factor[i] *= factor
            volume_factor[i] *= volume
        applied += 1
    frame.bars = [
        Bar(bar.open_ns, _round(bar.open * f), _round(bar.high * f), _round(bar.low * f),
            _round(bar.close * f), _round(bar.volume * v), bar.trade_count)
        for bar, f, v in zip(bars, price_factor, volume_factor, strict=True)
    ]  # fmt: skip
    frame.columns["adj_factor"] = [float(f) for f in price_factor]
    return {"actions_applied": applied}


def adjust_by_column(frame: Frame, name: str, index: int, volume: str = "splits") -> dict[str, Any]:
    """Prices × (the bar's factor / the last bar's); a bar without one takes the previous bar's.
    ``volume`` ``splits``: volumes × the splits after the bar (``factor_splits``), else unchanged."""
    where = f"steps[{index}].factor_column"
    column = frame.source_columns.get(name)
    if column is None:
        raise StepError(where, f"the dataset has no column {name!r}; it has {sorted(frame.source_columns)}")
    factors: list[Decimal] = []
    for bar in frame.bars:
        value = column.get(bar.open_ns)
        if value is not None and (not math.isfinite(value) or value <= 0):
            raise StepError(where, f"{name} is {value} at {bar.open_ns}: a factor must be > 0")
        if value is None and not factors:
            raise StepError(where, f"{name} has no value at the first bar ({bar.open_ns})")
        factors.append(Decimal(repr(value)) if value is not None else factors[-1])
    relative = [f / factors[-1] for f in factors]
    multipliers, splits, unclassified = volume_multipliers(factors)
    if volume != "splits":
        multipliers, splits, unclassified = [Decimal(1)] * len(factors), [], 0
    frame.bars = [
        Bar(bar.open_ns, _round(bar.open * f), _round(bar.high * f), _round(bar.low * f),
            _round(bar.close * f), _round(bar.volume * v), bar.trade_count)
        for bar, f, v in zip(frame.bars, relative, multipliers, strict=True)
    ]  # fmt: skip
    frame.columns["adj_factor"] = [float(f) for f in relative]
    return {
        "factor_column": name,
        "bars_adjusted": sum(1 for f in relative if f != 1),
        "splits": [{"ts_ns": frame.bars[k].open_ns, "ratio": str(s)} for k, s in splits],
        "unclassified_changes": unclassified,
    }


def _floats(values: np.ndarray) -> list[float | None]:
    return [None if not math.isfinite(v) else float(v) for v in values.tolist()]


def add_returns(frame: Frame, name: str, log: bool) -> dict[str, Any]:
    closes = np.array([float(bar.close) for bar in frame.bars])
    out = np.full(len(closes), np.nan)
    if len(closes) > 1:
        ratio = closes[1:] / closes[:-1]
        out[1:] = np.log(ratio) if log else ratio - 1
    frame.columns[name] = _floats(out)
    return {"columns": [name]}


def add_indicator(frame: Frame, step: dict[str, Any], index: int) -> dict[str, Any]:
    try:
        spec = indicator_spec(step["indicator"])
        params = checked_indicator_params(spec, step["params"])
    except InvalidParameters as error:
        where = "indicator" if error.field == "indicator" else f"params.{error.field}"
        raise StepError(f"steps[{index}].{where}", str(error)) from None
    arrays = {
        name: np.array([float(getattr(bar, name)) for bar in frame.bars], dtype=np.float64)
        for name in ("open", "high", "low", "close", "volume")
    }
    outputs = compute_indicator(spec, arrays, params, step["source"])
    base = step.get("name") or spec.name
    names = []
    for output, values in outputs.items():
        name = base if len(outputs) == 1 else f"{base}_{output}"
        frame.columns[name] = _floats(values)
        names.append(name)
    return {"columns": names}


def _adjust(frame: Frame, step: dict[str, Any], index: int) -> dict[str, Any]:
    if bool(step.get("actions")) == bool(step.get("factor_column")):
        raise StepError(f"steps[{index}].actions", "give either actions or factor_column")
    if step.get("factor_column"):
        return adjust_by_column(frame, step["factor_column"], index, step.get("volume") or "splits")
    return adjust(frame, step["actions"])


def run_steps(frame: Frame, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply ``steps`` in order; returns each step's effect. Bar steps must precede column steps
    (a column would no longer line up with bars removed or added after it)."""
    seen_column = False
    effects = []
    for index, step in enumerate(steps):
        op = step["op"]
        if op in BAR_STEPS and seen_column:
            raise StepError(f"steps[{index}].op", f"{op} must come before the derived-column steps")
        seen_column = seen_column or op not in BAR_STEPS
        if op == "fill_gaps":
            effects.append(fill_gaps(frame))
        elif op == "drop_gaps":
            effects.append(drop_gaps(frame))
        elif op == "remove_outliers":
            effects.append(remove_outliers(frame, step["rule"], step["k"]))
        elif op == "adjust":
            effects.append(_adjust(frame, step, index))
        elif op in ("returns", "log_returns"):
            effects.append(add_returns(frame, step.get("name") or op, log=op == "log_returns"))
        else:
            effects.append(add_indicator(frame, step, index))
        if not frame.bars:
            raise StepError(f"steps[{index}]", "no bars are left")
    if "adj_factor" in frame.columns and len(frame.columns["adj_factor"]) != len(frame.bars):
        raise StepError("steps", "adjust must come after the steps that add or remove bars")
    return effects
