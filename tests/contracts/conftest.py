"""Make ``tools`` importable (pytest runs with ``--import-mode=importlib``) and share one generation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def generated() -> dict[str, Any]:
    """Every contract file as a fresh generation builds it (relative path -> document)."""
    from tools.contracts import build_contracts

    return build_contracts()
