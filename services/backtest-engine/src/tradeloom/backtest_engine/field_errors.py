"""The validation error every backtest-engine op raises for one bad field of its request."""

from __future__ import annotations

from tradeloom.shared.errors import ValidationFailed


def invalid(field: str, message: str) -> ValidationFailed:
    """``validation_error`` with ``details.fields[0].field`` naming ``field`` (the gateway maps it)."""
    return ValidationFailed(f"{field}: {message}", details={"fields": [{"field": field, "message": message}]})
