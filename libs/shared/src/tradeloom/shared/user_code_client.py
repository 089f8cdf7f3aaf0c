"""Runs a user-code strategy's signals in sandbox-executor (``tradeloom.shared.user_code``'s
protocol), as the strategy's owner, so their quotas and audit apply. What the code did wrong is
``UserCodeFailed`` (the same bars would fail the same way); the sandbox not answering, busy or not
ready is ``Unavailable`` (try again later).

``execute_user_program`` is the one sandbox call of every user program (these signals and
``user_indicator_client``'s outputs): it builds the ``ExecuteRequest``, runs it as the owner and
maps sandbox-executor's refusals (a user fault with its line, otherwise ``Unavailable``); each
caller words the fault its own way.
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


class SandboxUserFault(Exception):
    """sandbox-executor refused the program for the code's own doing (``USER_FAULTS``: a limit,
    no quota left, the source itself): ``code`` (the error code), ``line`` (the user's, if known)."""

    def __init__(self, code: str, detail: str, line: int | None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.line = line


async def execute_user_program(  # noqa: PLR0917 - the run's whole description
    client: ServiceClient,
    user_id: str,
    program: str,
    params: Mapping[str, Any],
    columns: Mapping[str, Sequence[float] | Sequence[int]],
    limits: SandboxLimits,
    *,
    what: str,
) -> ExecuteReply:
    """One execution of ``program`` (a user's source with its protocol's footer) over the bars
    ``columns`` and ``params``, as ``user_id``: sandbox-executor's reply (the program's own
    exception is in it). A user fault is ``SandboxUserFault``; any other refusal, or no answer,
    is ``Unavailable`` naming ``what`` ran (try again)."""
    request = ExecuteRequest(
        code=program,
        input={"bars": {name: list(columns[name]) for name in COLUMNS}, "params": dict(params)},
        time_limit_s=limits.time_limit_s,
        memory_mb=limits.memory_mb,
    )
    try:
        return await client.call(
            SANDBOX, "execute", request, ExecuteReply,
            caller=CallerContext(user_id=user_id), timeout_s=limits.time_limit_s + 10,
        )  # fmt: skip
    except RemoteError as error:
        if error.code in USER_FAULTS:
            raise SandboxUserFault(error.code, str(error), (error.details or {}).get("line")) from None
        raise Unavailable(f"sandbox-executor refused to run {what} now: {error.code}: {error}") from None


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
    try:
        reply = await execute_user_program(
            client, user_id, signals_program(code), params, columns, limits, what="the code"
        )
    except SandboxUserFault as fault:
        where = f" at line {fault.line}" if fault.line else ""
        raise UserCodeFailed(f"user code {fault.code}{where}: {fault.detail}") from None
    if not reply.success and reply.error is not None:
        line = error_line(reply.error.traceback, code)
        where = f" at line {line}" if line else ""
        raise UserCodeFailed(f"user code raised {reply.error.type}{where}: {reply.error.message}")
    if reply.result_error is not None or reply.result is None:
        raise UserCodeFailed(f"user code gave no signals: {reply.result_error or 'no result'}")
    return signal_indices(count, reply.result)
