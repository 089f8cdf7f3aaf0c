"""The NATS-identity and TLS rules of ``tools/k8s_check.py`` (issue 10, Security).

- ``nats-config``: ``nats-server -t`` on every rendered NATS config (with its ``auth.conf``,
  placeholder passwords and, since the certificates live only in the cluster, without ``tls``
  blocks), when a nats-server binary is installed (the dev venv has one).
- ``nats-auth``: each NATS config includes ``auth.conf``, which equals a fresh
  ``python -m tradeloom.shared.nats_config``; the NATS pods get every password variable it refers
  to from the Secret; every service mounts its own ``TL_<SERVICE>_NATS_PASSWORD``.
- ``tls`` (prod): NATS serves TLS with a CA, every service verifies NATS against a CA file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tradeloom.shared.nats_config import render_authorization
from tradeloom.shared.nats_permissions import IDENTITIES, password_variable

Obj = dict[str, Any]
SECRET_NAME = "tradeloom-secrets"  # noqa: S105 - the Secret's name, not a value
_TLS_BLOCK = re.compile(r"^\s*tls\s*\{[^}]*\}", re.M)


def _ref(obj: Obj) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def _nats_configs(objs: list[Obj]) -> list[Obj]:
    return [o for o in objs if o["kind"] == "ConfigMap" and "nats.conf" in o.get("data", {})]


def nats_config_errors(objs: list[Obj]) -> list[tuple[str, str, str]]:
    """``nats-server -t`` on each NATS config: (object, rule, detail) for every one it refuses."""
    here = str(Path(sys.executable).parent)
    binary = shutil.which("nats-server") or shutil.which("nats-server", path=here)
    found: list[tuple[str, str, str]] = []
    for cm in _nats_configs(objs):
        if binary is None:
            break
        with tempfile.TemporaryDirectory() as tmp:
            for name, text in cm["data"].items():
                (Path(tmp) / name).write_text(_TLS_BLOCK.sub("", text))
            env = {**os.environ, "SERVER_NAME": "check-0"}
            env |= {password_variable(who.name): "check-only" for who in IDENTITIES}
            cmd = [binary, "-c", str(Path(tmp) / "nats.conf"), "-t"]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=30, check=False)
            if proc.returncode != 0:
                found.append((_ref(cm), "nats-config", (proc.stderr or proc.stdout).strip()))
    return found


def _env_names(container: Obj) -> set[str]:
    return {
        item["name"]
        for item in container.get("env", [])
        if item.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == SECRET_NAME
    }


def _secret_paths(pod: Obj) -> set[str]:
    return {
        item["path"]
        for volume in pod.get("volumes", [])
        if volume.get("secret", {}).get("secretName") == SECRET_NAME
        for item in volume["secret"].get("items", [])
    }


def nats_auth_errors(objs: list[Obj], services: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Users generated from the permission map, passwords from the Secret, one per service."""
    found: list[tuple[str, str, str]] = []
    wanted = render_authorization()
    for cm in _nats_configs(objs):
        if not re.search(r"^include auth\.conf$", cm["data"]["nats.conf"], re.M):
            found.append((_ref(cm), "nats-auth", "nats.conf must `include auth.conf`"))
        if cm["data"].get("auth.conf") != wanted:
            detail = "auth.conf differs from `python -m tradeloom.shared.nats_config` (regenerate it)"
            found.append((_ref(cm), "nats-auth", detail))
    nats = next((o for o in objs if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "nats"), None)
    if nats is not None:
        names = set().union(*(_env_names(c) for c in nats["spec"]["template"]["spec"]["containers"]))
        missing = sorted({password_variable(who.name) for who in IDENTITIES} - names)
        if missing:
            found.append((_ref(nats), "nats-auth", f"needs {', '.join(missing)} from Secret {SECRET_NAME}"))
    deployments = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Deployment"}
    for name in services:
        obj = deployments.get(name)
        if obj is not None and password_variable(name) not in _secret_paths(obj["spec"]["template"]["spec"]):
            found.append((_ref(obj), "nats-auth", f"must mount {password_variable(name)} from {SECRET_NAME}"))
    return found


def tls_errors(objs: list[Obj], services: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Production: NATS serves TLS with a CA, and every service is told the CA to verify it with."""
    found: list[tuple[str, str, str]] = []
    for cm in _nats_configs(objs):
        block = _TLS_BLOCK.search(cm["data"]["nats.conf"])
        if block is None or "ca_file" not in block.group(0):
            found.append((_ref(cm), "tls", "NATS must serve TLS (a top-level tls block with ca_file)"))
    env = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("tradeloom-env")]
    data = env[0].get("data", {}) if env else {}
    for name in services:
        key = f"TL_{name.replace('-', '_').upper()}_NATS_TLS_CA"
        if not data.get(key):
            found.append(("ConfigMap/tradeloom-env", "tls", f"needs {key} (the CA that verifies NATS)"))
    return found
