"""Signals of a user-code strategy, computed only by sandbox-executor (never in this process).

One ``svc.sandbox-executor.execute`` as the strategy's owner (their quotas, their audit) runs
``generate_signals`` over the bars and answers the signal of each bar. What the user's code did
wrong (an exception, the time or memory limit, a malformed answer, no CPU left today) is a
``UserCodeFailed`` naming the line where one is known: a bot stops on it. The sandbox not
answering, being busy or not ready is ``Unavailable``: not the code's fault, the bar is retried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.sandbox import ExecuteReply, ExecuteRequest
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.strategy_runner.domain.user_code import (
    CodeRefused,
    error_line,
    signal_names,
    signals_input,
    signals_program,
)

SANDBOX = "sandbox-executor"
# the code's own doing: retrying the same bars would fail the same way
USER_FAULTS = frozenset(
    {"time_limit", "memory_limit", "syntax_error", "code_too_large", "validation_error", "quota_exceeded"}
)


class UserCodeFailed(Exception):
    """The user's code could not give signals; the message says why (and where)."""


@dataclass(frozen=True)
class SandboxLimits:
    time_limit_s: float
    memory_mb: int


class CodeSignals:
    def __init__(self, client: Callable[[], ServiceClient], limits: SandboxLimits) -> None:
        self._client = client
        self.limits = limits

    async def signals(
        self, user_id: str, code: str, params: Mapping[str, Any], bars: Sequence[Any]
    ) -> list[str]:
        """The signal of each bar (``none`` where there is none), oldest first."""
        request = ExecuteRequest(
            code=signals_program(code),
            input=signals_input(bars, params),
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
                where = f" at line {line}" if line else ""
                raise UserCodeFailed(f"user code {error.code}{where}: {error}") from None
            raise Unavailable(
                f"sandbox-executor refused to run the code now: {error.code}: {error}"
            ) from None
        if not reply.success and reply.error is not None:
            line = error_line(reply.error.traceback, code)
            where = f" at line {line}" if line else ""
            raise UserCodeFailed(f"user code raised {reply.error.type}{where}: {reply.error.message}")
        if reply.result_error is not None or reply.result is None:
            raise UserCodeFailed(f"user code gave no signals: {reply.result_error or 'no result'}")
        try:
            return signal_names(len(bars), reply.result)
        except CodeRefused as error:
            raise UserCodeFailed(f"user code gave bad signals: {error}") from None
