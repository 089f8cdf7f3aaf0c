"""What a node type is: its ports, parameter schema and computation (the catalog is ``nodes``).

Ports carry whole series (one value per bar): ``number`` (float64, NaN while undefined) or
``bool``. Sinks have no outputs and no computation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradeloom.quant.simulator import Bars
from tradeloom.quant.strategies.schema import ParamSpec, ParamValue

NUMBER = "number"
BOOL = "bool"
MAX_WINDOW = 10_000

Series = np.ndarray
Compute = Callable[[Mapping[str, Series], Mapping[str, ParamValue], Bars], tuple[Series, ...]]


@dataclass(frozen=True)
class Port:
    name: str
    kind: str  # NUMBER or BOOL


@dataclass(frozen=True)
class NodeSpec:
    type: str
    description: str
    inputs: tuple[Port, ...] = ()
    outputs: tuple[Port, ...] = ()
    params: tuple[ParamSpec, ...] = ()
    compute: Compute | None = None  # None: a sink
    market: bool = False  # reads the bars: a source of reachability
    external: bool = False  # its series are computed outside the graph (``external_spec``)

    @property
    def category(self) -> str:
        return self.type.split(".", 1)[0]

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "category": self.category,
            "description": self.description,
            "inputs": [{"name": p.name, "kind": p.kind} for p in self.inputs],
            "outputs": [{"name": p.name, "kind": p.kind} for p in self.outputs],
            "params": [p.as_dict() for p in self.params],
        }


EXTERNAL = "user_indicator"  # a user's Python indicator, computed in the sandbox before the kernels


def external_spec(outputs: tuple[str, ...]) -> NodeSpec:
    """A node whose number series (``outputs``) are given to ``CompiledGraph.signals`` by the caller:
    no inputs, no parameters; it reads the bars (so it reaches sinks) and its values are not computed
    here."""
    return NodeSpec(
        EXTERNAL,
        "a user's indicator computed before the graph",
        outputs=tuple(Port(name, NUMBER) for name in outputs),
        market=True,
        external=True,
    )


def n_port(name: str) -> Port:
    return Port(name, NUMBER)


def b_port(name: str) -> Port:
    return Port(name, BOOL)


OUT = (n_port("out"),)
BANDS = (n_port("lower"), n_port("middle"), n_port("upper"))


def window(default: int, name: str = "window", minimum: int = 1) -> ParamSpec:
    return ParamSpec(name, int, default, minimum, MAX_WINDOW, f"bars ({minimum}–{MAX_WINDOW})")


def w(p: Mapping[str, ParamValue], name: str = "window") -> int:
    return int(p[name])


def on_input(kernel: Callable[..., Series], *names: str) -> Compute:
    """A one-series kernel applied to the ``in`` port with parameters ``names`` in order."""
    return lambda i, p, _b: (kernel(i["in"], *(p[name] for name in names)),)


def tuple_on_input(kernel: Callable[..., tuple[Series, ...]], *names: str) -> Compute:
    return lambda i, p, _b: tuple(kernel(i["in"], *(p[name] for name in names)))
