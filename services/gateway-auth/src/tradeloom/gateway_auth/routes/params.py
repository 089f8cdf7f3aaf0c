"""The path parameters and error sets that many route tables share, declared once."""

from __future__ import annotations

from fastapi import Path

from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.table import Param

ID_PATTERN = r"^[A-Za-z0-9_\-]+$"
VERSION = Param("version", int, Path(ge=1, le=1_000_000, description="a version number (1, 2, …)"))
READ_ERRORS = problem_responses(401, 403, 404, 422, 429, 503, 504)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422, 429, 503, 504)


def id_param(name: str, description: str) -> Param:
    """A path id (``{name}``): 1–64 characters of letters, digits, ``_`` and ``-``."""
    return Param(name, str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description=description))
