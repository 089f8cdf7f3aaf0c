"""Which templates a saved strategy may name, and its parameters checked against the template.

Pure: no NATS, SQL or HTTP. The templates are ``tradeloom.quant``'s ``BUILTIN_STRATEGIES``, exactly
what backtest-engine accepts as ``strategy`` (its run plan refuses the multi-lot strategies), so a
saved strategy can always be backtested.
"""

from __future__ import annotations

from collections.abc import Mapping

from tradeloom.quant.strategies import BUILTIN_STRATEGIES, InvalidParameters, StrategySpec, validate_params
from tradeloom.quant.strategies.schema import ParamValue


class TemplateError(ValueError):
    """A template or parameter that cannot be saved; ``field`` is the dotted path of the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def known_templates() -> list[str]:
    return sorted(BUILTIN_STRATEGIES)


def template_spec(template: str) -> StrategySpec:
    """The built-in named ``template``; ``TemplateError`` on field ``template`` listing the known ones."""
    spec = BUILTIN_STRATEGIES.get(template)
    if spec is None:
        known = ", ".join(known_templates())
        raise TemplateError("template", f"unknown template {template!r}: use one of {known}")
    return spec


def checked_params(template: str, raw: Mapping[str, object]) -> dict[str, ParamValue]:
    """``raw`` validated against the template's schema, with its defaults filled in.

    A bad parameter is reported as ``params.<name>`` (the path in the request body).
    """
    spec = template_spec(template)
    try:
        return validate_params(spec, raw)
    except InvalidParameters as error:
        raise TemplateError(f"params.{error.field}", str(error).split(": ", 1)[-1]) from None
