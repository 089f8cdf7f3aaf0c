"""Executing code for a user: admission under quotas, the sandboxed run, recording and audit.

Shared by the request/reply operation (``execute``) and the job consumer; the outcome of a run
becomes either a reply (``ok``/``error``: success true/false) or an error reply whose code the
gateway maps to a status (``syntax_error`` 400, ``time_limit`` 408, ``memory_limit`` 507).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.sandbox_executor.domain.limits import CODE_MAX_CHARS, Outcome
from tradeloom.sandbox_executor.domain.quotas import QuotaPolicy, refusal
from tradeloom.sandbox_executor.errors import (
    CodeTooLarge,
    MemoryLimitExceeded,
    QuotaExceeded,
    RateLimited,
    SandboxDown,
    TimeLimitExceeded,
    UserSyntaxError,
)
from tradeloom.sandbox_executor.sandbox.runner import RunRequest, RunResult, SandboxRunner, SandboxUnavailable
from tradeloom.sandbox_executor.store import ExecutionStore, Finish
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.sandbox import ExecuteReply, ExecuteRequest, ExecutionFinished, UserError
from tradeloom.shared.errors import ServiceError, require_user
from tradeloom.shared.outbox import Outbox

MB = 1024 * 1024
ERROR_BY_OUTCOME: dict[Outcome, type[ServiceError]] = {
    Outcome.SYNTAX_ERROR: UserSyntaxError,
    Outcome.TIME_LIMIT: TimeLimitExceeded,
    Outcome.MEMORY_LIMIT: MemoryLimitExceeded,
}


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


class Executions:
    """The use cases; built once in ``app`` with the runner, engine, store and outbox."""

    def __init__(
        self,
        runner: SandboxRunner,
        engine: AsyncEngine,
        store: ExecutionStore,
        outbox: Outbox,
        policy: QuotaPolicy,
    ) -> None:
        self.runner = runner
        self.engine = engine
        self.store = store
        self.outbox = outbox
        self.policy = policy
        self.slots = asyncio.Semaphore(runner.config.slots)

    async def check_request(self, user_id: str, request: ExecuteRequest) -> None:
        """Refusals that need no database lock: code size and isolation; each is audited."""
        if len(request.code) > CODE_MAX_CHARS:
            await self._audit_refusal(user_id, request, "code_too_large", f"{len(request.code)} characters")
            raise CodeTooLarge(
                f"code has {len(request.code)} characters; at most {CODE_MAX_CHARS}",
                details={"field": "code", "limit": CODE_MAX_CHARS, "length": len(request.code)},
            )
        if not self.runner.isolation.ready:
            reason = self.runner.isolation.reason
            await self._audit_refusal(user_id, request, "sandbox_unavailable", reason)
            raise SandboxDown(f"the sandbox is not available: {reason}", details={"reason": reason})

    async def admit(self, conn: AsyncConnection, user_id: str, request: ExecuteRequest, kind: str) -> str:
        """Check quotas under the user's lock and record the execution; returns its id."""
        usage = await self.store.lock_usage(conn, user_id)
        starts_now = kind == "sync"
        refused = refusal(
            self.policy,
            running=usage.running,
            started_last_minute=usage.started_last_minute,
            cpu_seconds_today=usage.cpu_seconds_today,
            starts_now=starts_now,
        )
        if refused is not None:
            await self._audit_refusal(user_id, request, refused.code, refused.message)
            error = RateLimited if refused.code == "rate_limited" else QuotaExceeded
            raise error(refused.message, details=refused.details)
        execution_id = str(uuid.uuid4())
        await self.store.insert(
            conn,
            execution_id=execution_id,
            user_id=user_id,
            kind=kind,
            status="running" if starts_now else "queued",
            code_sha256=code_hash(request.code),
            code_chars=len(request.code),
            time_limit_s=request.time_limit_s,
            memory_mb=request.memory_mb,
        )
        return execution_id

    async def execute(self, caller: CallerContext, request: ExecuteRequest) -> ExecuteReply:
        """Run now and answer, or raise the error reply of the outcome."""
        user_id = require_user(caller)
        await self.check_request(user_id, request)
        async with self.engine.begin() as conn:
            execution_id = await self.admit(conn, user_id, request, "sync")
        result = await self.run(execution_id, request)
        reply, error = self.interpret(execution_id, result)
        async with self.engine.begin() as conn:
            await self.record(conn, execution_id, user_id, "sync", request, result, reply, error)
        if error is not None:
            raise error
        return reply

    async def run(self, execution_id: str, request: ExecuteRequest) -> RunResult:
        run = RunRequest(
            code=request.code,
            time_limit_s=request.time_limit_s,
            memory_mb=request.memory_mb,
            input=request.input,
            capture_variables=request.capture_variables,
        )
        async with self.slots:
            try:
                return await asyncio.to_thread(self.runner.run, run)
            except SandboxUnavailable as failure:
                return RunResult(Outcome.PLATFORM_ERROR, "", str(failure), False, False, 0.0, 0.0, 0)

    def interpret(self, execution_id: str, result: RunResult) -> tuple[ExecuteReply, ServiceError | None]:
        """The reply of a run, and the error reply to send instead when the outcome is one."""
        reply = ExecuteReply(
            execution_id=execution_id,
            success=result.success,
            stdout=result.stdout,
            stderr=result.stderr,
            stdout_truncated=result.stdout_truncated,
            stderr_truncated=result.stderr_truncated,
            result=result.result,
            result_error=result.result_error,
            variables=result.variables,
            error=UserError(**result.error) if result.error else None,
            wall_s=round(result.wall_s, 6),
            cpu_s=round(result.cpu_s, 6),
            peak_memory_mb=round(result.peak_memory_bytes / MB, 3),
        )
        if result.outcome == Outcome.PLATFORM_ERROR:
            return reply, SandboxDown(
                "the sandbox failed to run the code", details={"execution_id": execution_id}
            )
        error_class = ERROR_BY_OUTCOME.get(result.outcome)
        if error_class is None:
            return reply, None
        details: dict[str, Any] = {"execution_id": execution_id}
        if result.outcome == Outcome.SYNTAX_ERROR and result.syntax_error:
            details.update(
                line=result.syntax_error.get("line"),
                column=result.syntax_error.get("column"),
                message=result.syntax_error.get("message"),
            )
            message = (
                f"syntax error at line {details['line']}, column {details['column']}: {details['message']}"
            )
        else:
            details.update(
                reply.model_dump(include={"stdout", "stderr", "wall_s", "cpu_s", "peak_memory_mb"})
            )
            message = "time limit reached" if result.outcome == Outcome.TIME_LIMIT else "memory limit reached"
        return reply, error_class(message, details=details)

    async def record(  # noqa: PLR0917 - every part of a finished run, in the order it happened
        self,
        conn: AsyncConnection,
        execution_id: str,
        user_id: str,
        kind: str,
        request: ExecuteRequest,
        result: RunResult,
        reply: ExecuteReply,
        error: ServiceError | None,
    ) -> None:
        """Finish the row, charge CPU, write the audit row and the finished event, in ``conn``."""
        done = Finish(
            outcome=str(result.outcome),
            success=result.success,
            error_code=None if error is None else error.code,
            wall_s=reply.wall_s,
            cpu_s=reply.cpu_s,
            peak_memory_mb=reply.peak_memory_mb,
            reply=reply.model_dump(mode="json") if kind == "job" else None,
        )
        finished_at = await self.store.finish(conn, execution_id, user_id, done)
        await self.store.audit(
            conn,
            user_id=user_id,
            execution_id=execution_id,
            code_sha256=code_hash(request.code),
            outcome=done.outcome,
            time_limit_s=request.time_limit_s,
            memory_mb=request.memory_mb,
            error_code=done.error_code,
            done=done,
        )
        event = ExecutionFinished(
            execution_id=execution_id,
            user_id=user_id,
            kind="job" if kind == "job" else "sync",
            outcome=done.outcome,
            success=done.success,
            wall_s=done.wall_s,
            cpu_s=done.cpu_s,
            peak_memory_mb=done.peak_memory_mb,
            finished_at=finished_at or datetime.now(UTC),
        )
        await self.outbox.add(conn, event, user_id)

    async def _audit_refusal(self, user_id: str, request: ExecuteRequest, code: str, detail: str) -> None:
        """Audit a refusal in its own transaction (the caller's is rolled back by the error)."""
        async with self.engine.begin() as conn:
            await self.store.audit(
                conn,
                user_id=user_id,
                code_sha256=code_hash(request.code),
                outcome=str(Outcome.REJECTED),
                time_limit_s=request.time_limit_s,
                memory_mb=request.memory_mb,
                error_code=code,
                detail=detail,
            )
