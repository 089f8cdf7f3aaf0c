"""``PlanError``: a request that cannot run (its own module, so the planners of each kind share it)."""

from __future__ import annotations


class PlanError(ValueError):
    """A request that cannot run; ``field`` is the dotted path of the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
