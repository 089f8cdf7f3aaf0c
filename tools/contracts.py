"""Generate, drift-check and compatibility-check the published contracts in ``contracts/``.

``python tools/contracts.py generate``  write JSON Schemas, examples, AsyncAPI and OpenAPI
``python tools/contracts.py check``     regenerate into a temp dir and compare with ``contracts/``
``python tools/contracts.py compat [--base REV] [--repo PATH] [--tree DIR]``
                                        refuse incompatible schema changes against a git revision
``python tools/contracts.py all``       check + compat (``make test``)

Everything comes from ``tradeloom.shared.contracts.catalog`` (events, request/reply models,
shared models), ``tradeloom.shared.subjects``/``streams`` and the gateway's ``build_openapi()``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``tools.*`` importable
    sys.path.insert(0, str(ROOT))

from pydantic import BaseModel  # noqa: E402
from pydantic.json_schema import JsonSchemaMode  # noqa: E402

from tools.contracts_asyncapi import (  # noqa: E402
    EVERY_SERVICE,
    EventSpec,
    RequestSpec,
    build_asyncapi,
    consumers,
    publishers,
    stream_for,
)
from tools.contracts_compat import compat_against_git  # noqa: E402
from tools.contracts_examples import EXAMPLE_TIME, model_example, reply_example  # noqa: E402
from tradeloom.shared.contracts.catalog import EVENTS, REQUESTS, SHARED_MODELS  # noqa: E402
from tradeloom.shared.contracts.spec import EventContract, RequestContract  # noqa: E402
from tradeloom.shared.envelope import SCHEMA_BASE  # noqa: E402
from tradeloom.shared.subjects import Subjects  # noqa: E402

CONTRACTS_DIR = ROOT / "contracts"
CONTRACTS_BASE = SCHEMA_BASE.rsplit("/", 1)[0]  # https://tradeloom.dev/contracts
DIALECT = "https://json-schema.org/draft/2020-12/schema"
MANAGED = ("events", "requests", "shared", "asyncapi.json", "openapi.json")  # README.md is hand-written
EXAMPLE_MS = 1_704_164_645_000  # EXAMPLE_TIME in milliseconds, for example UUIDv7s
EXAMPLE_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
ANY_SERVICE_FILE = "any"

# --------------------------------------------------------------------------- examples


def example_uuid7(seed: str) -> str:
    """A UUIDv7 with a fixed timestamp and random bits derived from ``seed`` (deterministic)."""
    bits = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:10], "big")
    rand_a, rand_b = (bits >> 68) & 0xFFF, bits & ((1 << 62) - 1)
    return str(uuid.UUID(int=(EXAMPLE_MS << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b))


# --------------------------------------------------------------------------- schemas


def _document(schema: dict[str, Any], schema_id: str, title: str, description: str) -> dict[str, Any]:
    return {**schema, "$schema": DIALECT, "$id": schema_id, "title": title, "description": description}


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _event_files(contract: EventContract, files: dict[str, Any]) -> EventSpec:
    model = contract.model
    key = f"{model.domain}.{model.name}.v{model.major}"
    schema = model.model_json_schema(mode="validation")
    description = contract.description or schema.get("description", "")
    base = Subjects().event(model.domain, model.name, model.major)
    address = base + "".join(f".{{{k}}}" for k in contract.subject_keys)
    data = model_example(schema)
    key_examples = {k: str(data.get(k, "example")).replace(".", "-") for k in contract.subject_keys}
    example_subject = Subjects().event(model.domain, model.name, model.major, *key_examples.values())
    stream = stream_for(contract.stream, example_subject)
    senders = publishers(model.domain)
    source = data.get("service") if data.get("service") in senders else senders[0]
    envelope = {
        "specversion": "1.0",
        "id": example_uuid7(model.event_type()),
        "source": f"tradeloom/{source}",
        "type": model.event_type(),
        "time": EXAMPLE_TIME,
        "subject": "/".join(key_examples.values()) or None,
        "dataschema": model.dataschema(),
        "correlationid": example_uuid7(model.event_type() + "/correlation"),
        "causationid": example_uuid7(model.event_type() + "/causation"),
        "traceparent": EXAMPLE_TRACEPARENT,
        "data": data,
    }
    meta = {"type": model.event_type(), "subject": address, "stream": stream.name}
    document = _document(schema, model.dataschema(), model.__name__, description)
    files[f"events/{key}.schema.json"] = {**document, "x-tradeloom": meta}
    files[f"events/{key}.example.json"] = envelope
    return EventSpec(
        key=key,
        title=model.__name__,
        event_type=model.event_type(),
        dataschema=model.dataschema(),
        address=address,
        keys=contract.subject_keys,
        key_examples=key_examples,
        stream=stream.name,
        stream_description=stream.description,
        stream_subjects=stream.subjects,
        description=description,
        schema_file=f"events/{key}.schema.json",
        example=envelope,
        senders=senders,
        receivers=consumers(model.domain, model.name),
    )


def _request_files(contract: RequestContract, files: dict[str, Any]) -> RequestSpec:
    every = contract.service == EVERY_SERVICE
    stem = f"{ANY_SERVICE_FILE if every else contract.service}.{contract.op}"
    subject = f"svc.{{service}}.{contract.op}" if every else Subjects().request(contract.service, contract.op)
    examples: dict[str, dict[str, Any]] = {}
    parts: tuple[tuple[str, type[BaseModel], JsonSchemaMode], ...] = (
        ("request", contract.request, "validation"),
        ("reply", contract.reply, "serialization"),  # what model_dump_json puts on the wire
    )
    for part, model, mode in parts:
        schema = model.model_json_schema(mode=mode)
        name = f"requests/{stem}.{part}"
        description = schema.get("description") or contract.description
        document = _document(schema, f"{CONTRACTS_BASE}/{name}.schema.json", model.__name__, description)
        files[f"{name}.schema.json"] = {**document, "x-tradeloom": {"subject": subject, "part": part}}
        example = model_example(schema) if part == "request" else reply_example(model)
        examples[part] = files[f"{name}.example.json"] = example
    return RequestSpec(
        service=contract.service,
        op=contract.op,
        stem=stem,
        description=contract.description,
        request_title=contract.request.__name__,
        reply_title=contract.reply.__name__,
        request_file=f"requests/{stem}.request.schema.json",
        reply_file=f"requests/{stem}.reply.schema.json",
        request_example=examples["request"],
        reply_example=examples["reply"],
        binary_reply=contract.binary_reply,
    )


def _shared_file(model: type[BaseModel], files: dict[str, Any]) -> None:
    schema = model.model_json_schema(mode="validation")
    name = f"shared/{_kebab(model.__name__)}.schema.json"
    files[name] = _document(schema, f"{CONTRACTS_BASE}/{name}", model.__name__, schema.get("description", ""))


def build_contracts() -> dict[str, Any]:
    """Every generated file, as ``relative path -> JSON document``."""
    from tradeloom.gateway_auth.openapi import build_openapi

    files: dict[str, Any] = {}
    events = [_event_files(contract, files) for contract in EVENTS]
    requests = [_request_files(contract, files) for contract in REQUESTS]
    for model in SHARED_MODELS:
        _shared_file(model, files)
    files["asyncapi.json"] = build_asyncapi(events, requests, metadata.version("tradeloom-shared"))
    files["openapi.json"] = build_openapi()
    return files


def render(document: Any) -> str:
    """The one serialisation of a contract file: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- commands


def managed_files(directory: Path) -> dict[str, Path]:
    """The generated files present under ``directory`` (relative posix path -> path)."""
    found: dict[str, Path] = {}
    for name in MANAGED:
        path = directory / name
        paths = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        found.update({p.relative_to(directory).as_posix(): p for p in paths if p.is_file()})
    return found


def generate(directory: Path = CONTRACTS_DIR) -> int:
    """Write every contract file into ``directory`` and delete stale generated ones; returns the count."""
    files = build_contracts()
    for stale in set(managed_files(directory)) - set(files):
        (directory / stale).unlink()
    for name, document in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render(document)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return len(files)


def check(directory: Path = CONTRACTS_DIR) -> list[str]:
    """Differences between a fresh generation and ``directory`` (``added: x`` / ``removed`` / ``changed``)."""
    with tempfile.TemporaryDirectory(prefix="contracts-") as tmp:
        generate(Path(tmp))
        fresh = {name: path.read_bytes() for name, path in managed_files(Path(tmp)).items()}
    have = {name: path.read_bytes() for name, path in managed_files(directory).items()}
    problems = [
        f"added: contracts/{name} (generated, not in the tree)" for name in sorted(set(fresh) - set(have))
    ]
    problems += [
        f"removed: contracts/{name} (in the tree, no longer generated)"
        for name in sorted(set(have) - set(fresh))
    ]
    problems += [
        f"changed: contracts/{name}" for name in sorted(set(have) & set(fresh)) if have[name] != fresh[name]
    ]
    return problems


def _check_command() -> bool:
    problems = check()
    for line in problems:
        print(line)
    if problems:
        print("contracts/ is out of date: run make contracts")
        return False
    print(f"contracts check: {len(managed_files(CONTRACTS_DIR))} files up to date")
    return True


def _compat_command(base: str | None, repo: Path, tree: Path | None) -> bool:
    if tree is not None:
        return compat_against_git(repo, tree, base)
    if repo.resolve() != ROOT:
        return compat_against_git(repo, repo / "contracts", base)
    with tempfile.TemporaryDirectory(prefix="contracts-") as tmp:
        generate(Path(tmp))
        return compat_against_git(repo, Path(tmp), base)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="tools/contracts.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("generate", help="write contracts/")
    commands.add_parser("check", help="fail when contracts/ differs from a fresh generation")
    compat = commands.add_parser("compat", help="fail on incompatible schema changes against a git revision")
    for command in (compat, commands.add_parser("all", help="check + compat")):
        command.add_argument(
            "--base", help="git revision (default: HEAD if contracts/ is dirty, else HEAD~1)"
        )
        command.add_argument("--repo", type=Path, default=ROOT, help="git work tree holding contracts/")
        command.add_argument("--tree", type=Path, help="contracts dir to judge (default: freshly generated)")
    args = parser.parse_args(argv)
    if args.command == "generate":
        count = generate()
        print(f"contracts: wrote {count} files to {CONTRACTS_DIR.relative_to(ROOT)}/")
        return 0
    if args.command == "check":
        return 0 if _check_command() else 1
    ok = _check_command() if args.command == "all" else True
    ok = _compat_command(args.base, args.repo, args.tree) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
