"""The generated contracts: schemas are valid, examples validate, the tree is current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pydantic import BaseModel, ValidationError

from tools.contracts import ANY_SERVICE_FILE, CONTRACTS_DIR, build_contracts, check, generate, render
from tools.contracts_asyncapi import publishers, subject_matches
from tools.contracts_examples import example_for
from tradeloom.shared.contracts.catalog import EVENTS, REQUESTS, SERVICES
from tradeloom.shared.envelope import Envelope

SUFFIX = ".example.json"


def validate(schema: dict[str, Any], instance: Any) -> None:
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(instance)


def test_every_example_validates_against_its_schema(generated: dict[str, Any]) -> None:
    examples = [name for name in generated if name.endswith(SUFFIX)]
    assert len(examples) == len(EVENTS) + 2 * len(REQUESTS)
    envelope_schema = generated["shared/envelope.schema.json"]
    for name in examples:
        schema = generated[name.removesuffix(SUFFIX) + ".schema.json"]
        example = generated[name]
        if name.startswith("events/"):
            validate(envelope_schema, example)
            validate(schema, example["data"])
            assert example["dataschema"] == schema["$id"]
        else:
            validate(schema, example)


def _example_models() -> list[tuple[str, type[BaseModel]]]:
    """Every example file with the model that must accept it (an event's: its ``data``)."""
    pairs: list[tuple[str, type[BaseModel]]] = []
    for request in REQUESTS:
        stem = f"{ANY_SERVICE_FILE if request.service == '*' else request.service}.{request.op}"
        pairs += [(f"requests/{stem}.request{SUFFIX}", request.request)]
        pairs += [(f"requests/{stem}.reply{SUFFIX}", request.reply)]
    for event in EVENTS:
        model = event.model
        pairs.append((f"events/{model.domain}.{model.name}.v{model.major}{SUFFIX}", model))
    return pairs


def test_every_example_is_a_value_its_model_accepts(generated: dict[str, Any]) -> None:
    """The schema says less than the model (cross-field rules, Decimal strings): ask the model."""
    pairs = _example_models()
    assert len(pairs) == len({name for name, _ in pairs}) == len(EVENTS) + 2 * len(REQUESTS)
    refused: list[str] = []
    for name, model in pairs:
        example = generated[name]
        try:
            model.model_validate(example["data"] if name.startswith("events/") else example)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '<model>'}: {e['msg']}" for e in error.errors()
            )
            refused.append(f"contracts/{name} ({model.__name__}): {problems}")
    assert not refused, f"{len(refused)} example(s) refused by their model:\n" + "\n".join(refused)


def test_a_reply_example_is_the_models_wire_form(generated: dict[str, Any]) -> None:
    """A reply's Decimal is a decimal string (the serialization schema only says ``string``)."""
    for request in REQUESTS:
        stem = f"{ANY_SERVICE_FILE if request.service == '*' else request.service}.{request.op}"
        example = generated[f"requests/{stem}.reply{SUFFIX}"]
        assert request.reply.model_validate(example).model_dump(mode="json") == example, stem
    mark = generated["requests/market-data.mark_price.reply.example.json"]
    assert mark["last_funding_rate"] == "1.5"


def test_event_schemas_carry_id_title_and_description(generated: dict[str, Any]) -> None:
    for contract in EVENTS:
        model = contract.model
        schema = generated[f"events/{model.domain}.{model.name}.v{model.major}.schema.json"]
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == model.dataschema()
        assert schema["title"] == model.__name__
        assert schema["description"]


def test_example_envelopes_round_trip_through_the_envelope_model(generated: dict[str, Any]) -> None:
    for contract in EVENTS:
        model = contract.model
        raw = generated[f"events/{model.domain}.{model.name}.v{model.major}{SUFFIX}"]
        envelope = Envelope.model_validate(raw)
        event = envelope.unwrap(model)
        assert Envelope.from_bytes(envelope.to_bytes()) == envelope
        assert event.model_dump(mode="json") == raw["data"]
        assert envelope.source.removeprefix("tradeloom/") in publishers(model.domain)


def test_generation_is_deterministic(generated: dict[str, Any]) -> None:
    again = build_contracts()
    assert sorted(again) == sorted(generated)
    assert all(render(again[name]) == render(generated[name]) for name in generated)
    text = render({"b": 1, "a": [2]})
    assert text == '{\n  "a": [\n    2\n  ],\n  "b": 1\n}\n'


def test_check_passes_on_a_fresh_generation_and_names_each_difference(tmp_path: Path) -> None:
    generate(tmp_path)
    (tmp_path / "README.md").write_text("hand-written, not generated\n")
    assert check(tmp_path) == []
    (tmp_path / "openapi.json").write_text("{}\n")
    (tmp_path / "shared" / "envelope.schema.json").unlink()
    (tmp_path / "events" / "gone.evt.v1.schema.json").write_text("{}\n")
    assert check(tmp_path) == [
        "added: contracts/shared/envelope.schema.json (generated, not in the tree)",
        "removed: contracts/events/gone.evt.v1.schema.json (in the tree, no longer generated)",
        "changed: contracts/openapi.json",
    ]
    generate(tmp_path)
    assert check(tmp_path) == []
    assert not (tmp_path / "events" / "gone.evt.v1.schema.json").exists()
    assert (tmp_path / "README.md").exists()


def test_committed_contracts_tree_is_current() -> None:
    problems = check(CONTRACTS_DIR)
    assert problems == [], "contracts/ is out of date, run make contracts:\n" + "\n".join(problems)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_asyncapi_covers_the_catalog_and_every_ref_resolves(generated: dict[str, Any]) -> None:
    doc = generated["asyncapi.json"]
    assert doc["asyncapi"] == "3.0.0"
    for contract in EVENTS:
        model = contract.model
        channel = doc["channels"][f"{model.domain}.{model.name}.v{model.major}"]
        assert set(channel.get("parameters", {})) == set(contract.subject_keys)
        assert f"Stream `{contract.stream}`" in channel["description"]
        base = f"{model.domain}.evt.{model.name}.v{model.major}"  # keys are optional: `[.<keys>]`
        pattern = f"{base}.>" if contract.subject_keys else base
        assert subject_matches(pattern, channel["address"])
        assert doc["operations"][f"{model.domain}.{model.name}.v{model.major}.publish"]["action"] == "send"
    for request in REQUESTS:
        services = SERVICES if request.service == "*" else (request.service,)
        for service in services:
            operation = doc["operations"][f"svc.{service}.{request.op}"]
            assert operation["action"] == "receive"
            assert operation["reply"]["channel"] == {"$ref": f"#/channels/svc.{service}.{request.op}.reply"}
    for ref in _refs(doc):
        if ref.startswith("#/"):
            target: Any = doc
            for part in ref[2:].split("/"):
                target = target[part]
        else:
            assert ref.removeprefix("./") in generated, ref


def test_openapi_is_the_gateway_document(generated: dict[str, Any]) -> None:
    assert generated["openapi.json"]["openapi"].startswith("3.")
    assert "/v1/system/status" in generated["openapi.json"]["paths"]


def test_example_builder_satisfies_constraints_without_examples() -> None:
    schema: dict[str, Any] = {
        "$defs": {
            "Side": {"enum": ["buy", "sell"], "type": "string"},
            "Leg": {
                "type": "object",
                "properties": {"side": {"$ref": "#/$defs/Side"}, "qty": {"type": "integer", "minimum": 5}},
                "required": ["side", "qty"],
            },
        },
        "type": "object",
        "properties": {
            "price": {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}]},
            "symbol": {"type": "string", "pattern": "^[A-Z]+-[A-Z]+$"},
            "code": {"type": "string", "minLength": 12, "maxLength": 12},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "legs": {"type": "array", "items": {"$ref": "#/$defs/Leg"}, "minItems": 2},
            "at": {"type": "string", "format": "date-time"},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "kind": {"const": "limit"},
        },
        "required": ["price", "symbol", "code", "legs", "at", "ratio", "kind"],
        "additionalProperties": False,
    }
    value = example_for(schema, schema)
    validate(schema, value)
    assert example_for(schema, schema) == value
    assert value["legs"][0] == {"side": "buy", "qty": 5}
    assert json.dumps(value)


def test_a_number_or_string_union_is_built_as_a_decimal_string() -> None:
    """How pydantic writes a Decimal (validation mode): the example is a decimal string, not a name."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "price": {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string"}]},
            "rate": {"anyOf": [{"type": "number", "minimum": 1e-08, "maximum": 1e-08}, {"type": "string"}]},
            "fee": {"anyOf": [{"type": "number", "maximum": 1}, {"type": "string"}, {"type": "null"}]},
            "id": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^id-"}]},
        },
    }
    value = example_for(schema, schema)
    assert value == {"price": "1.5", "rate": "0.00000001", "fee": "1", "id": 1}
    validate(schema, value)


def test_an_event_domain_without_an_owner_is_refused() -> None:
    with pytest.raises(ValueError, match="DOMAIN_OWNERS"):
        publishers("nosuchdomain")
