"""The example builder of ``tools/contracts.py``: one deterministic valid value per JSON Schema.

``example_for`` takes a node's ``examples``/``enum``/``const`` first and builds a value otherwise.
A model's own examples (``Field(examples=[...])``, ``json_schema_extra={"examples": [...]}``) are
how a cross-field rule the schema cannot say (``kind`` picks which amount is set, a low below a
high) gets a value the model accepts; ``tests/contracts`` validates every example with its model.

Decimals: pydantic writes a ``Decimal`` as ``anyOf: [number, string]`` in validation mode and as a
bare ``string`` in serialization mode, with no pattern or format in either. So a union of one
number and one string is built as the number's example written as a decimal string (``"1.5"``:
decimal strings on the wire), and a reply's example is built from its model's validation schema
and dumped by the model (``reply_example``), as the service puts it on the wire.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

EXAMPLE_TIME = "2024-01-02T03:04:05Z"

_FORMATS = {
    "date-time": EXAMPLE_TIME,
    "date": EXAMPLE_TIME[:10],
    "time": EXAMPLE_TIME[11:],
    "duration": "PT1M",
    "email": "trader@example.com",
    "uri": "https://example.com/",
    "uuid": "01890a5d-ac96-774b-bcce-b302099a8057",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
}
MISSING = object()  # a branch the builder cannot satisfy (e.g. an unmatched pattern)


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and str(node["$ref"]).startswith("#/"):
        target: Any = root
        for part in str(node["$ref"])[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _fits(node: dict[str, Any], value: str) -> bool:
    """Whether ``value`` meets the string constraints of ``node`` (length, pattern)."""
    if not int(node.get("minLength", 0)) <= len(value) <= int(node.get("maxLength", 1 << 30)):
        return False
    return "pattern" not in node or re.search(node["pattern"], value) is not None


def _example_string(node: dict[str, Any], hint: str) -> object:
    if node.get("format") in _FORMATS:
        return _FORMATS[node["format"]]
    candidates = [f"example-{hint}" if hint else "example", "1.5", "1", "BTC-USDT", "a", "A", "0"]
    pattern = node.get("pattern")
    for candidate in candidates:
        value = candidate.ljust(int(node.get("minLength", 0)), "x")[: int(node.get("maxLength", 1 << 30))]
        if pattern is None or re.search(pattern, value):
            return value
    return MISSING


def _example_number(node: dict[str, Any], integer: bool) -> float | int:
    value: float = node.get("multipleOf", 1 if integer else 1.5)
    if "minimum" in node and value < node["minimum"]:
        value = node["minimum"]
    if "exclusiveMinimum" in node and value <= node["exclusiveMinimum"]:
        value = node["exclusiveMinimum"] + 1
    if "maximum" in node and value > node["maximum"]:
        value = node["maximum"]
    if "exclusiveMaximum" in node and value >= node["exclusiveMaximum"]:
        value = node["exclusiveMaximum"] - (1 if integer else 0.5)
    return int(value) if integer else value


def _example_decimal(root: dict[str, Any], branches: list[Any]) -> str | None:
    """A number-or-string union (a pydantic ``Decimal``): the number's example as a decimal string."""
    real = [_resolve(root, b) for b in branches if _resolve(root, b).get("type") != "null"]
    numbers = [b for b in real if b.get("type") in ("number", "integer")]
    strings = [b for b in real if b.get("type") == "string" and not {"format", "enum", "const"} & set(b)]
    if len(real) != 2 or len(numbers) != 1 or len(strings) != 1:
        return None
    number = _example_number(numbers[0], numbers[0]["type"] == "integer")
    text = format(Decimal(repr(number)), "f")  # 1e-08 -> "0.00000001", never an exponent
    return text if _fits(strings[0], text) else None


def example_for(root: dict[str, Any], node: dict[str, Any], hint: str = "") -> Any:
    """A deterministic value valid against ``node``: ``examples``/``const``/``enum`` first, else built."""
    node = _resolve(root, node)
    for key in ("examples", "enum"):
        if node.get(key):
            return node[key][0]
    if "const" in node:
        return node["const"]
    branches = node.get("anyOf") or node.get("oneOf")
    if branches:
        decimal = _example_decimal(root, branches)
        if decimal is not None:
            return decimal
        ordered = [b for b in branches if _resolve(root, b).get("type") != "null"] + [{"type": "null"}]
        for branch in ordered:
            value = example_for(root, branch, hint)
            if value is not MISSING:
                return value
        return MISSING
    if node.get("allOf"):
        merged: dict[str, Any] = {}
        for part in node["allOf"]:
            value = example_for(root, part, hint)
            if not isinstance(value, dict):
                return value
            merged.update(value)
        return merged
    kind = node.get("type", "object" if "properties" in node else "string")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    if kind == "object":
        return {name: example_for(root, prop, name) for name, prop in node.get("properties", {}).items()}
    if kind == "array":
        count = max(1, int(node.get("minItems", 1))) if node.get("maxItems", 1) > 0 else 0
        return [example_for(root, node.get("items", {}), hint) for _ in range(count)]
    if kind in ("number", "integer"):
        return _example_number(node, kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _example_string(node, hint)


def model_example(schema: dict[str, Any]) -> dict[str, Any]:
    """An example object for a model schema; refuses one the builder cannot satisfy."""
    value = example_for(schema, schema)
    if not isinstance(value, dict) or MISSING in value.values():
        raise ValueError(f"cannot build an example for {schema.get('title')}: add Field(examples=[...])")
    return value


def reply_example(model: type[BaseModel]) -> dict[str, Any]:
    """What the service puts on the wire for a value built from ``model``'s validation schema.

    The serialization schema says ``string`` for a Decimal and for a name alike; the validation
    schema tells them apart. A value the model refuses is kept as built (``tests/contracts`` names
    its file) so that one bad model does not stop the whole generation.
    """
    built = model_example(model.model_json_schema(mode="validation"))
    try:
        return model.model_validate(built).model_dump(mode="json")
    except ValidationError:
        return built
