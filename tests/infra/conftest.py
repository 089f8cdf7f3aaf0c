"""Fixtures for the infrastructure checks: the tools/ checkers loaded by path, rendered overlays."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_tool(name: str) -> ModuleType:
    """Import tools/<name>.py (tools/ is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def k8s_check() -> ModuleType:
    return load_tool("k8s_check")


@pytest.fixture(scope="session")
def compose_check() -> ModuleType:
    return load_tool("compose_check")


@pytest.fixture(scope="session")
def _rendered(k8s_check: ModuleType) -> dict[str, list[dict[str, Any]]]:
    return {
        name: k8s_check.render_fallback(k8s_check.K8S_DIR / "overlays" / name) for name in ("dev", "prod")
    }


@pytest.fixture
def prod_objects(_rendered: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A fresh, mutable copy of the rendered prod overlay."""
    return copy.deepcopy(_rendered["prod"])


@pytest.fixture
def dev_objects(_rendered: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A fresh, mutable copy of the rendered dev overlay."""
    return copy.deepcopy(_rendered["dev"])
