"""Runs a user-code strategy's signals in sandbox-executor (``tradeloom.shared.user_code``'s
protocol), as the strategy's owner, so their quotas and audit apply. What the code did wrong is
``UserCodeFailed`` (the same bars would fail the same way); the sandbox not answering, busy or not
ready is ``Unavailable`` (try again later).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.sandbox import ExecuteReply, ExecuteRequest
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.user_code import (
    COLUMNS,
    MAX_BARS,
    SANDBOX,
    USER_FAULTS,
    SandboxLimits,
    UserCodeFailed,
    error_line,
    signal_indices,
    signals_program,
)


async def sandbox_signals(  # noqa: PLR0917 - the run's whole description
    client: ServiceClient,
    user_id: str,
    code: str,
    params: Mapping[str, Any],
    columns: Mapping[str, Sequence[float] | Sequence[int]],
    limits: SandboxLimits,
) -> dict[str, list[int]]:
    """The indices of each signal over the bars ``columns`` (open, high, low, close, volume, time)."""
    count = len(columns["close"])
    if count > MAX_BARS:
        raise UserCodeFailed(f"user code runs over at most {MAX_BARS} bars at once, not {count}")
    request = ExecuteRequest(
        code=signals_program(code),
        input={"bars": {name: list(columns[name]) for name in COLUMNS}, "params": dict(params)},
        time_limit_s=limits.time_limit_s,
        memory_mb=limits.memory_mb,
    )
    try:
        reply = await client.call(
            SANDBOX, "execute", request, ExecuteReply,
            caller=CallerContext(user_id=user_id), timeout_s=limits.time_limit_s + 10,
        )  # fmt: skip
    except RemoteError as error:
        if error.code in USER_FAULTS:
            line = (error.details or {}).get("line")
            where = f" at line {line}" if line else ""
            raise UserCodeFailed(f"user code {error.code}{where}: {error}") from None
        raise Unavailable(f"sandbox-executor refused to run the code now: {error.code}: {error}") from None
    if not reply.success and reply.error is not None:
        line = error_line(reply.error.traceback, code)
        where = f" at line {line}" if line else ""
        raise UserCodeFailed(f"user code raised {reply.error.type}{where}: {reply.error.message}")
    if reply.result_error is not None or reply.result is None:
        raise UserCodeFailed(f"user code gave no signals: {reply.result_error or 'no result'}")
    return signal_indices(count, reply.result)
