"""A user indicator computed over bars, only in sandbox-executor (never in this process), as its
owner, so their quotas and audit apply (``tradeloom.shared.user_indicator_client``).

What the code did wrong (an exception, the time or memory limit, no quota left, an unusable
answer) is a 422 on ``user_indicator_id`` (or the field given) whose message names the user's line
and whose ``details`` carry ``line``; the sandbox busy, not ready or not answering is
``unavailable`` (503, try again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tradeloom.shared.errors import ValidationFailed, field_invalid
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.user_code import SandboxLimits
from tradeloom.shared.user_indicator_client import IndicatorCodeFailed, sandbox_outputs

FIELD = "user_indicator_id"


def _failed(field: str, error: IndicatorCodeFailed, prefix: str = "") -> ValidationFailed:
    return field_invalid(field, f"{prefix}{error}", line=error.line, stage="compute")


class UserIndicatorRuns:
    def __init__(self, client: Callable[[], ServiceClient], limits: SandboxLimits) -> None:
        self._client = client
        self.limits = limits

    async def outputs(
        self,
        user_id: str,
        code: str,
        params: Mapping[str, Any],
        columns: Mapping[str, Sequence[float] | Sequence[int]],
        *,
        field: str = FIELD,
        prefix: str = "",
    ) -> dict[str, list[float | None]]:
        """Each output of the user's ``compute`` per bar of ``columns`` (oldest first); a 422 on
        ``field`` (its message starting ``prefix``) when the code fails."""
        try:
            return await sandbox_outputs(self._client(), user_id, code, params, columns, self.limits)
        except IndicatorCodeFailed as error:
            raise _failed(field, error, prefix) from None
