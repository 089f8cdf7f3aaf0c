"""A user indicator computed over bars, only in sandbox-executor (never in this process), as its
owner, so their quotas and audit apply.

What the code did wrong (an exception, the time or memory limit, no quota left, an unusable
answer) is a 422 on ``user_indicator_id`` whose message names the user's line and whose
``details`` carry ``line``; the sandbox busy, not ready or not answering is ``unavailable`` (503,
try again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.sandbox import ExecuteReply, ExecuteRequest
from tradeloom.shared.errors import Unavailable, ValidationFailed, field_invalid
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.user_code import COLUMNS, SANDBOX, USER_FAULTS, SandboxLimits, error_line
from tradeloom.strategy_runner.domain.user_indicator import (
    IndicatorFailed,
    checked_outputs,
    indicator_program,
)

FIELD = "user_indicator_id"


def _failed(message: str, line: int | None = None) -> ValidationFailed:
    where = f"line {line}: " if line else ""
    return field_invalid(FIELD, f"{where}{message}", line=line, stage="compute")


class UserIndicatorRuns:
    def __init__(self, client: Callable[[], ServiceClient], limits: SandboxLimits) -> None:
        self._client = client
        self.limits = limits

    async def outputs(
        self,
        user_id: str,
        code: str,
        params: Mapping[str, Any],
        columns: Mapping[str, list[float] | list[int]],
    ) -> dict[str, list[float | None]]:
        """Each output of the user's ``compute`` per bar of ``columns`` (oldest first)."""
        count = len(columns["close"])
        request = ExecuteRequest(
            code=indicator_program(code),
            input={"bars": {name: list(columns[name]) for name in COLUMNS}, "params": dict(params)},
            time_limit_s=self.limits.time_limit_s,
            memory_mb=self.limits.memory_mb,
        )
        try:
            reply = await self._client().call(
                SANDBOX, "execute", request, ExecuteReply,
                caller=CallerContext(user_id=user_id), timeout_s=self.limits.time_limit_s + 10,
            )  # fmt: skip
        except RemoteError as error:
            if error.code in USER_FAULTS:
                line = (error.details or {}).get("line")
                raise _failed(f"the indicator's code: {error.code}: {error}", line) from None
            raise Unavailable(
                f"sandbox-executor refused to run the indicator now: {error.code}: {error}"
            ) from None
        if not reply.success and reply.error is not None:
            line = error_line(reply.error.traceback, code)
            raise _failed(f"compute raised {reply.error.type}: {reply.error.message}", line)
        if reply.result_error is not None or reply.result is None:
            raise _failed(f"compute gave no outputs: {reply.result_error or 'no result'}")
        try:
            return checked_outputs(count, reply.result)
        except IndicatorFailed as error:
            raise _failed(str(error)) from None
