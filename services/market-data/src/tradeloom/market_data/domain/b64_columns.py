"""Binary columns as JSON strings: the base64 of a little-endian array's bytes, and back."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np


def b64(array: np.ndarray[Any, Any]) -> str:
    """``array``'s bytes as base64 text (the caller picks the little-endian dtype)."""
    return base64.b64encode(array.tobytes()).decode("ascii")


def from_b64(text: str, dtype: str) -> np.ndarray[Any, Any]:
    """The array whose bytes ``text`` carries (read-only: a view of the decoded bytes)."""
    return np.frombuffer(base64.b64decode(text), dtype=dtype)
