"""An indicator request checked against the catalog, and its outputs as JSON-ready lists.

Pure: no NATS, SQL or HTTP. Bad input raises ``TemplateError`` naming the request field
(``indicator``, ``params.<name>``), like the saved-strategy checks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from tradeloom.quant.indicators.catalog import (
    INDICATORS,
    IndicatorSpec,
    checked_indicator_params,
    compute_indicator,
    indicator_spec,
)
from tradeloom.quant.strategies import InvalidParameters
from tradeloom.quant.strategies.schema import ParamValue
from tradeloom.quant.types import FloatArray
from tradeloom.strategy_runner.domain.templates import TemplateError


def checked_indicator(name: str, raw: Mapping[str, object]) -> tuple[IndicatorSpec, dict[str, ParamValue]]:
    """The indicator and its parameters with defaults; ``TemplateError`` naming the culprit."""
    try:
        spec = indicator_spec(name)
    except InvalidParameters as error:
        raise TemplateError("indicator", str(error).split(": ", 1)[-1]) from None
    try:
        return spec, checked_indicator_params(spec, raw)
    except InvalidParameters as error:
        raise TemplateError(f"params.{error.field}", str(error).split(": ", 1)[-1]) from None


def series(
    spec: IndicatorSpec, params: Mapping[str, ParamValue], columns: Mapping[str, FloatArray], source: str
) -> dict[str, list[float | None]]:
    """Each output over the bars, NaN (warm-up, undefined) as ``None``."""
    outputs = compute_indicator(spec, columns, params, source)
    return {
        name: [float(v) if math.isfinite(v) else None for v in values.tolist()]
        for name, values in outputs.items()
    }


def catalog() -> list[IndicatorSpec]:
    return [INDICATORS[name] for name in sorted(INDICATORS)]


def warm_up() -> None:
    """Every indicator once on a few bars: compiles (or loads from numba's cache) each kernel, so
    the first chart request does not pay for it."""
    bars = np.linspace(100.0, 110.0, 64)
    columns = {"open": bars, "high": bars + 1.0, "low": bars - 1.0, "close": bars, "volume": bars / 100.0}
    for spec in catalog():
        compute_indicator(spec, columns, checked_indicator_params(spec, {}))
