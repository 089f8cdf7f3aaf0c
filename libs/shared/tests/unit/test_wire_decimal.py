"""Decimals on the wire are plain decimal strings ("10000", never "1E+4"), in every contract."""

from __future__ import annotations

import json
import types
import typing
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, PlainSerializer

from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.contracts.catalog import EVENTS, REQUESTS, SHARED_MODELS
from tradeloom.shared.contracts.wire import WireDecimal, plain_decimal


class Holder(BaseModel):
    value: WireDecimal
    maybe: WireDecimal | None = None


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_plain_decimal_never_uses_exponent_and_round_trips_exactly(value: Decimal) -> None:
    wire = json.loads(Holder(value=value, maybe=value).model_dump_json())
    for text in (wire["value"], wire["maybe"]):
        assert isinstance(text, str) and "e" not in text.lower(), text
        assert Decimal(text) == value
        assert Holder.model_validate({"value": text}).value == value


def test_the_reported_case_initial_cash_1e4_answers_10000() -> None:
    request = SubmitBacktest.model_validate_json('{"strategy": "sma_cross", "initial_cash": 1e4}')
    assert json.loads(request.model_dump_json())["initial_cash"] == "10000"
    assert plain_decimal(Decimal("1E+4")) == "10000" and plain_decimal(Decimal("1.5E-7")) == "0.00000015"


def _bare_decimals(annotation: Any, where: str) -> list[str]:
    """Places in an annotation where a ``Decimal`` has no plain-string serializer."""
    if annotation is Decimal:
        return [where]
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extras = typing.get_args(annotation)
        if inner is Decimal and any(isinstance(extra, PlainSerializer) for extra in extras):
            return []
        return _bare_decimals(inner, where)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return []  # checked as a model of its own
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) or typing.get_args(annotation):
        return [hit for arg in typing.get_args(annotation) for hit in _bare_decimals(arg, where)]
    return []


def _models() -> set[type[BaseModel]]:
    roots: list[type[BaseModel]] = [e.model for e in EVENTS]
    roots += [m for r in REQUESTS for m in (r.request, r.reply)]
    roots += list(SHARED_MODELS)
    seen: set[type[BaseModel]] = set()
    while roots:
        model = roots.pop()
        if model in seen:
            continue
        seen.add(model)
        for field in model.model_fields.values():
            stack = [field.annotation]
            while stack:
                node = stack.pop()
                if isinstance(node, type) and issubclass(node, BaseModel):
                    roots.append(node)
                stack.extend(typing.get_args(node))
    return seen


def test_every_contract_decimal_is_written_plain() -> None:
    bare = []
    for model in _models():
        for name, field in model.model_fields.items():
            plain = field.annotation is Decimal and any(
                isinstance(m, PlainSerializer) for m in field.metadata
            )
            if not plain:
                bare += _bare_decimals(field.annotation, f"{model.__name__}.{name}")
    assert bare == [], f"use tradeloom.shared.contracts.wire.WireDecimal for {bare}"
