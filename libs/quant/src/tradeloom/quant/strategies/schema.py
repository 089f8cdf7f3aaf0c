"""Parameter schemas of the built-in strategies: type, range, default, description — validated here."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tradeloom.quant.strategies.signals import SignalArrays
from tradeloom.quant.types import FloatArray, IntArray

ParamValue = int | float | bool


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: type[int] | type[float] | type[bool]
    default: ParamValue
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.kind.__name__,
            "default": self.default,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "description": self.description,
        }


@dataclass(frozen=True)
class OhlcArrays:
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    time: IntArray | None = None  # UTC ns; needed by session-based strategies


@dataclass(frozen=True)
class StrategySpec:
    name: str
    description: str
    params: tuple[ParamSpec, ...]
    signals: Callable[[OhlcArrays, Mapping[str, ParamValue]], SignalArrays]
    rules: tuple[Callable[[Mapping[str, ParamValue]], str | None], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params": [p.as_dict() for p in self.params],
        }


@dataclass(frozen=True)
class LotStrategySpec:
    """A strategy that holds several lots at once (grid, DCA): run by its own multi-lot simulator."""

    name: str
    description: str
    params: tuple[ParamSpec, ...]
    rules: tuple[Callable[[Mapping[str, ParamValue]], str | None], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params": [p.as_dict() for p in self.params],
        }


class ParamSchema(Protocol):
    """What ``validate_params`` needs: strategies and indicators (``indicators.catalog``) alike."""

    @property
    def name(self) -> str: ...
    @property
    def params(self) -> tuple[ParamSpec, ...]: ...
    @property
    def rules(self) -> tuple[Callable[[Mapping[str, ParamValue]], str | None], ...]: ...


class InvalidParameters(ValueError):
    """Parameters that do not fit the schema; ``field`` names the offending one."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _coerce(spec: ParamSpec, value: object) -> ParamValue:
    if spec.kind is bool:
        if not isinstance(value, bool):
            raise InvalidParameters(spec.name, "must be true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameters(spec.name, f"must be a number ({spec.kind.__name__})")
    if not math.isfinite(value):
        raise InvalidParameters(spec.name, "must be finite")
    if spec.kind is int:
        if value != int(value):
            raise InvalidParameters(spec.name, "must be a whole number")
        value = int(value)
    if spec.minimum is not None and value < spec.minimum:
        raise InvalidParameters(spec.name, f"must be at least {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise InvalidParameters(spec.name, f"must be at most {spec.maximum:g}")
    return spec.kind(value)


def validate_params(spec: ParamSchema, raw: Mapping[str, object]) -> dict[str, ParamValue]:
    """Defaults filled in, types and ranges checked, unknown names refused, cross-field rules applied."""
    known = {p.name for p in spec.params}
    for name in raw:
        if name not in known:
            raise InvalidParameters(name, f"unknown parameter for strategy {spec.name}")
    params = {p.name: _coerce(p, raw[p.name]) if p.name in raw else p.default for p in spec.params}
    for rule in spec.rules:
        problem = rule(params)
        if problem:
            field, message = problem.split(":", 1)
            raise InvalidParameters(field, message.strip())
    return params
