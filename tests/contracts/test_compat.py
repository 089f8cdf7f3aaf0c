"""Compatibility rules on fabricated schema pairs, and the compat command against a real git repo."""

from __future__ import annotations

import copy
import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import Field

from tools.contracts import generate, main, render
from tools.contracts_compat import compare_schemas, compare_trees, default_base, run_compat
from tradeloom.shared.envelope import Event

BASE: dict[str, Any] = {
    "$defs": {
        "Side": {"enum": ["buy", "sell"], "type": "string"},
        "Leg": {
            "type": "object",
            "properties": {"side": {"$ref": "#/$defs/Side"}, "qty": {"type": "string"}},
            "required": ["side", "qty"],
        },
    },
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "price": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "filled_at": {"type": "string", "format": "date-time"},
        "status": {"enum": ["new", "filled", "cancelled"], "type": "string"},
        "kind": {"const": "limit", "type": "string"},
        "leg": {"$ref": "#/$defs/Leg"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "count": {"type": "integer"},
    },
    "required": ["order_id", "filled_at", "status", "leg"],
}


def changed(edit: Any) -> list[str]:
    """Apply ``edit`` to a copy of BASE and return the violations as strings."""
    new = copy.deepcopy(BASE)
    edit(new)
    return [str(v) for v in compare_schemas(BASE, new, "x.schema.json")]


def test_identical_schema_is_compatible() -> None:
    assert compare_schemas(BASE, copy.deepcopy(BASE)) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s["properties"].pop("order_id"), "#/properties/order_id: property 'order_id' removed"),
        (
            lambda s: s["properties"]["order_id"].update(type="integer"),
            "#/properties/order_id: type changed from string to integer",
        ),
        (
            lambda s: s["required"].append("price"),
            "#/properties/price: property 'price' became required",
        ),
        (
            lambda s: (s["properties"].update(venue={"type": "string"}), s["required"].append("venue")),
            "#/required: new required property 'venue'",
        ),
        (
            lambda s: s["properties"]["status"]["enum"].remove("cancelled"),
            '#/properties/status: enum value(s) removed: "cancelled"',
        ),
        (
            lambda s: s["properties"]["kind"].update(const="market"),
            '#/properties/kind: enum value(s) removed: "limit"',
        ),
        (
            lambda s: s["properties"]["filled_at"].update(format="date"),
            "#/properties/filled_at: format changed from date-time to date",
        ),
        (
            lambda s: s["properties"]["price"].update(anyOf=[{"type": "string"}]),
            "#/properties/price/anyOf/1: type narrowed: null no longer accepted",
        ),
        (
            lambda s: s["properties"].update(leg={"$ref": "#/$defs/Side"}),
            "#/properties/leg: $ref target changed from #/$defs/Leg to #/$defs/Side",
        ),
        (
            lambda s: s["$defs"]["Leg"]["properties"].pop("qty"),
            "#/$defs/Leg/properties/qty: property 'qty' removed",
        ),
        (
            lambda s: s["$defs"]["Side"]["enum"].remove("sell"),
            '#/$defs/Side: enum value(s) removed: "sell"',
        ),
        (
            lambda s: s["properties"]["tags"].update(items={"type": "integer"}),
            "#/properties/tags/items: type changed from string to integer",
        ),
    ],
)
def test_incompatible_change_is_reported(edit: Any, expected: str) -> None:
    assert changed(edit) == [f"x.schema.json{expected}"]


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s["properties"].update(venue={"type": "string"}),
        lambda s: s["properties"]["status"]["enum"].append("expired"),
        lambda s: s["$defs"]["Side"]["enum"].append("short"),
        lambda s: s["$defs"]["Leg"]["properties"].update(note={"type": "string"}),
        lambda s: s["properties"]["order_id"].update(anyOf=[{"type": "string"}, {"type": "null"}]),
        lambda s: s["properties"]["count"].update(type="number"),
        lambda s: s["required"].remove("status"),
        lambda s: s["properties"]["order_id"].update(description="now documented", title="Order"),
    ],
)
def test_additive_change_is_compatible(edit: Any) -> None:
    assert changed(edit) == []


def test_removed_file_is_reported_and_new_file_is_fine() -> None:
    old = {"events/a.v1.schema.json": BASE, "events/b.v1.schema.json": BASE}
    new = {"events/a.v1.schema.json": BASE, "events/a.v2.schema.json": {"type": "object"}}
    assert [str(v) for v in compare_trees(old, new)] == [
        "contracts/events/b.v1.schema.json#: schema file removed: a published contract disappeared"
    ]
    assert compare_trees(old, {**old, "requests/any.op.reply.schema.json": BASE}) == []


def test_untyped_one_of_branches_are_paired_with_their_successors() -> None:
    """``oneOf`` of property rules (exactly one of two fields): every branch "matches" by type."""
    one_of = {
        "type": "object",
        "properties": {"order": {"type": "string"}, "error": {"type": "string"}},
        "oneOf": [{"properties": {"error": {"type": "null"}}}, {"properties": {"order": {"type": "null"}}}],
    }
    assert compare_schemas(one_of, copy.deepcopy(one_of)) == []
    widened = copy.deepcopy(one_of)
    widened["oneOf"][1]["properties"]["note"] = {"type": "string"}
    assert compare_schemas(one_of, widened) == []
    narrowed = copy.deepcopy(one_of)
    del narrowed["oneOf"][1]["properties"]["order"]
    assert [v.message for v in compare_schemas(one_of, narrowed)] == ["property 'order' removed"]


def test_recursive_refs_terminate() -> None:
    node = {"$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}}}}
    schema = {**node, "$ref": "#/$defs/N"}
    assert compare_schemas(schema, copy.deepcopy(schema)) == []


# --------------------------------------------------------------------------- git end to end


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def write(repo: Path, name: str, document: Any) -> None:
    path = repo / "contracts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(document))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    write(tmp_path, "events/orders.placed.v1.schema.json", BASE)
    write(tmp_path, "requests/any.ping.reply.schema.json", {"type": "object", "properties": {}})
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "contracts")
    return tmp_path


def test_compat_command_fails_on_incompatible_change(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = copy.deepcopy(BASE)
    broken["properties"].pop("order_id")
    broken["required"].append("price")
    write(repo, "events/orders.placed.v1.schema.json", broken)
    (repo / "contracts/requests/any.ping.reply.schema.json").unlink()
    assert main(["compat", "--repo", str(repo), "--base", "HEAD"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "contracts/events/orders.placed.v1.schema.json#/properties/order_id: property 'order_id' removed",
        "contracts/events/orders.placed.v1.schema.json#/properties/price: property 'price' became required",
        "contracts/requests/any.ping.reply.schema.json#:"
        " schema file removed: a published contract disappeared",
        "contracts compat: 3 incompatible change(s) against HEAD",
    ]


def test_compat_command_passes_additive_change(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grown = copy.deepcopy(BASE)
    grown["properties"]["venue"] = {"type": "string"}
    write(repo, "events/orders.placed.v1.schema.json", grown)
    write(repo, "events/orders.placed.v2.schema.json", {"type": "object"})
    assert default_base(repo) == "HEAD"
    assert main(["compat", "--repo", str(repo)]) == 0
    assert capsys.readouterr().out == "contracts compat: 2 schemas backward compatible with HEAD (1 new)\n"
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "grow")
    assert default_base(repo) == "HEAD~1"
    assert run_compat(repo, repo / "contracts").ok


def test_compat_passes_with_a_note_without_a_base(tmp_path: Path) -> None:
    assert run_compat(tmp_path, tmp_path).note.endswith("is not a git repository")
    git(tmp_path, "init", "-q")
    write(tmp_path, "events/a.v1.schema.json", BASE)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "first")
    first = run_compat(tmp_path, tmp_path / "contracts")  # clean tree: base HEAD~1, which does not exist
    assert first.ok
    assert first.summary() == "contracts compat: base revision HEAD~1 does not exist; nothing to compare"
    git(tmp_path, "rm", "-q", "-r", "contracts/events")
    git(tmp_path, "commit", "-q", "-m", "no schemas")
    empty = run_compat(tmp_path, tmp_path / "contracts", "HEAD")
    assert empty.note == "base revision HEAD has no contracts/ schemas"


class ServiceStartedBroken(Event):
    """ServiceStarted v1 with ``instance_id`` removed and a new required field: two violations."""

    domain: ClassVar[str] = "system"
    name: ClassVar[str] = "service_started"
    major: ClassVar[int] = 1

    service: str = Field(examples=["market-data"])
    version: str
    started_at: datetime
    region: str


def test_a_model_losing_a_field_fails_compat_against_the_real_contracts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(tmp_path, "init", "-q")
    generate(tmp_path / "contracts")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "real contracts")
    path = tmp_path / "contracts/events/system.service_started.v1.schema.json"
    document = json.loads(path.read_text())
    document.update(ServiceStartedBroken.model_json_schema())
    path.write_text(render(document))
    assert main(["compat", "--repo", str(tmp_path), "--base", "HEAD"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "contracts/events/system.service_started.v1.schema.json#/properties/instance_id:"
        " property 'instance_id' removed",
        "contracts/events/system.service_started.v1.schema.json#/required: new required property 'region'",
    ]
