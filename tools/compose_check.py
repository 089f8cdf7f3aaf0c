"""Check infra/compose/docker-compose.yml offline (``make compose-check``).

1. Validate it against the Compose Specification JSON Schema vendored in infra/compose/schema
   (no network needed; see the README there for its origin and license).
2. Check what ``docker compose`` would only find out at run time: build args naming real
   services, build contexts and Dockerfiles, bind-mounted files, env_file entries (or their
   ``.example``), referenced services, networks and volumes, variables without a default being
   in ``.env.example``, placeholder-only secrets there, and only the gateway publishing a port.

Exits 1 with one line per problem. The functions are importable for tests.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_DIR = ROOT / "infra" / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
SCHEMA_FILE = COMPOSE_DIR / "schema" / "compose-spec.json"
SERVICES = (
    "gateway-auth", "market-data", "order-router", "risk-monitor",
    "backtest-engine", "analytics", "sandbox-executor", "strategy-runner",
)  # fmt: skip
GATEWAY = "gateway-auth"
PLACEHOLDER = "change-me"
# ${VAR}, ${VAR:?msg}, ${VAR?msg} need a value; ${VAR:-x} / ${VAR-x} have a default. $$ escapes.
VARIABLE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?[^}]*\}")
SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|DATABASE_URL")
Compose = dict[str, Any]


def load(path: Path = COMPOSE_FILE) -> Compose:
    """The compose file as data (YAML merge keys ``<<`` resolved, as Compose does)."""
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a mapping")
    return data


def schema_errors(data: Compose, schema_file: Path = SCHEMA_FILE) -> list[str]:
    """Every Compose Specification schema violation, as ``path: message``."""
    schema = json.loads(schema_file.read_text())
    # The file declares draft 2019-09 by a URI jsonschema does not recognise; name the draft here.
    validator = jsonschema.Draft201909Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors]


def read_env_example(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of an env file (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(key) + _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [node] if isinstance(node, str) else []


def _as_list(node: Any) -> list[Any]:
    if node is None:
        return []
    if isinstance(node, dict):
        return list(node)
    return node if isinstance(node, list) else [node]


def _environment(service: Compose) -> dict[str, Any]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return dict(env)


def variable_errors(data: Compose, env_example: Path) -> list[str]:
    """Variables used without a default must be in .env.example; secrets there must be placeholders."""
    if not env_example.is_file():
        return [f"{env_example.name} is missing (copy it to .env to run compose)"]
    example = read_env_example(env_example)
    errors = []
    required = {
        m["name"] for s in _strings(data) for m in VARIABLE.finditer(s) if m["op"] in (None, ":?", "?")
    }
    for name in sorted(required - set(example)):
        errors.append(f"variable {name} is used without a default but is not in {env_example.name}")
    for key, value in example.items():
        if SECRET_KEY.search(key) and PLACEHOLDER not in value:
            errors.append(
                f"{env_example.name}: {key} must be the placeholder {PLACEHOLDER!r}, never a real secret"
            )
    return errors


def _build_errors(name: str, service: Compose, base: Path) -> list[str]:
    build = service.get("build")
    if build is None:
        return []
    build = {"context": build} if isinstance(build, str) else build
    context = (base / build.get("context", ".")).resolve()
    errors = []
    if not (context / build.get("dockerfile", "Dockerfile")).is_file():
        errors.append(
            f"service {name}: no {build.get('dockerfile', 'Dockerfile')} in build context {context}"
        )
    args = build.get("args") or {}
    arg = (dict(a.partition("=")[::2] for a in args) if isinstance(args, list) else args).get("SERVICE")
    if arg is None:
        errors.append(f"service {name}: build needs args.SERVICE (the one Dockerfile serves every service)")
    elif arg not in (*SERVICES, "all"):
        errors.append(f"service {name}: build arg SERVICE={arg!r} is not a Tradeloom service")
    elif arg in SERVICES and arg != name:
        errors.append(f"service {name}: build arg SERVICE={arg!r} does not match the service name")
    return errors


def _reference_errors(name: str, service: Compose, data: Compose, base: Path) -> list[str]:
    errors = []
    for dep in _as_list(service.get("depends_on")):
        if dep not in data.get("services", {}):
            errors.append(f"service {name}: depends_on unknown service {dep!r}")
    for net in _as_list(service.get("networks")):
        if net not in (data.get("networks") or {}):
            errors.append(f"service {name}: network {net!r} is not declared under networks")
    for vol in service.get("volumes") or []:
        if isinstance(vol, str) and ":" not in vol:
            continue  # anonymous volume
        source = vol.split(":", 1)[0] if isinstance(vol, str) else vol.get("source", "")
        if source.startswith((".", "/", "~")):
            if not (base / source).exists():
                errors.append(f"service {name}: bind mount source {source} does not exist")
        elif source and source not in (data.get("volumes") or {}):
            errors.append(f"service {name}: volume {source!r} is not declared under volumes")
    for env_file in _as_list(service.get("env_file")):
        path = base / (env_file if isinstance(env_file, str) else env_file["path"])
        if not path.exists() and not path.with_name(path.name + ".example").exists():
            errors.append(
                f"service {name}: env_file {path.name} has neither the file nor {path.name}.example"
            )
    return errors


def _read(path: Path) -> str:
    return path.read_text() if path.is_file() else ""


def semantic_errors(data: Compose, base: Path = COMPOSE_DIR) -> list[str]:
    """The checks Compose itself would only fail on at run time, plus Tradeloom's conventions."""
    services: dict[str, Compose] = data.get("services") or {}
    errors = []
    for name in SERVICES:
        if name not in services:
            errors.append(f"service {name} is missing")
            continue
        env = _environment(services[name])
        prefix = "TL_" + name.replace("-", "_").upper() + "_"
        for var in ("DATABASE_URL", "NATS_URL", "ENVIRONMENT"):
            if prefix + var not in env:
                errors.append(f"service {name}: environment lacks {prefix + var}")
    nats = services.get("nats") or {}
    confs = [v.split(":")[0] for v in nats.get("volumes") or [] if isinstance(v, str) and ".conf:" in v]
    if not any(re.search(r"sync_interval:\s*always\b", _read(base / conf)) for conf in confs):
        errors.append("service nats: needs a config file with jetstream sync_interval: always")
    if not any(isinstance(v, str) and v.endswith(":/data") for v in nats.get("volumes") or []):
        errors.append("service nats: the JetStream store /data needs a named volume")
    for name, service in services.items():
        errors += _build_errors(name, service, base) + _reference_errors(name, service, data, base)
        if service.get("ports") and name != GATEWAY:
            errors.append(f"service {name}: only {GATEWAY} may publish ports")
    return errors


def check(path: Path = COMPOSE_FILE, data: Compose | None = None) -> list[str]:
    """Every problem of a compose file (``data`` overrides the file's content, for tests)."""
    data = load(path) if data is None else data
    errors = [f"schema: {e}" for e in schema_errors(data)]
    return errors + semantic_errors(data, path.parent) + variable_errors(data, path.parent / ".env.example")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description="Check infra/compose/docker-compose.yml offline.")
    parser.add_argument("file", nargs="?", type=Path, default=COMPOSE_FILE)
    args = parser.parse_args(argv)
    try:
        errors = check(args.file)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        errors = [str(exc)]
    for error in errors:
        print(f"ERROR {args.file}: {error}", file=sys.stderr)
    if not errors:
        print(f"compose-check: {args.file} is valid (Compose Specification schema and checks)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
