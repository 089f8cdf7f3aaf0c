"""Long runs as jobs: ``submit`` queues a command on SANDBOX_COMMANDS (through the outbox, in the
same transaction as the queued row); the durable consumer runs it and announces progress.

The consumer claims the message in its inbox transaction, publishes ``execution_started`` in a
separate short transaction (so watchers see it while the code runs), runs the code, then writes
the result, audit row and ``execution_finished`` in the inbox transaction. A crash mid-run means
the job is delivered again and re-run; its recorded effects still happen once.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.sandbox_executor.domain.limits import Outcome
from tradeloom.sandbox_executor.executions import Executions
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.sandbox import ExecuteCommand, ExecuteRequest, ExecutionStarted, SubmitReply
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError, TransientError, require_user
from tradeloom.shared.publish import make_envelope
from tradeloom.shared.streams import consumer_spec
from tradeloom.shared.subjects import Subjects

# ack_wait is the first backoff step: it must outlast the longest run (300 s) plus start-up.
JOBS_CONSUMER = consumer_spec("sandbox_executor_jobs")


class Jobs:
    def __init__(self, executions: Executions, subjects: Subjects, source: str) -> None:
        self.executions = executions
        self.subjects = subjects
        self.source = source

    async def submit(self, caller: CallerContext, request: ExecuteRequest) -> SubmitReply:
        user_id = require_user(caller)
        await self.executions.check_request(user_id, request)
        async with self.executions.engine.begin() as conn:
            execution_id = await self.executions.admit(conn, user_id, request, "job")
            command = ExecuteCommand(execution_id=execution_id, user_id=user_id, request=request)
            subject = self.subjects.command(command.domain, command.name, command.major)
            await self.executions.outbox.add_envelope(
                conn, subject, make_envelope(command, self.source, event_id=execution_id)
            )
        return SubmitReply(execution_id=execution_id, status="queued")

    async def handle(self, conn: AsyncConnection, envelope: Envelope) -> None:
        """The durable consumer's handler for ``sandbox.cmd.execute.v1``."""
        try:
            command = envelope.unwrap(ExecuteCommand)
        except ValueError as error:
            raise PermanentError(f"not an execute command: {error}") from error
        executions = self.executions
        if not executions.runner.isolation.ready:
            raise TransientError(f"sandbox not available: {executions.runner.isolation.reason}")
        async with executions.engine.begin() as progress:
            started_at = await executions.store.mark_running(progress, command.execution_id)
            if started_at is None:
                return  # unknown or already finished: nothing to do
            started = ExecutionStarted(
                execution_id=command.execution_id, user_id=command.user_id, started_at=started_at
            )
            await executions.outbox.add(progress, started, command.user_id)
        result = await executions.run(command.execution_id, command.request)
        if result.outcome == Outcome.PLATFORM_ERROR:
            raise TransientError(f"the sandbox failed: {result.stderr[:300]}")
        reply, refusal = executions.interpret(command.execution_id, result)
        await executions.record(
            conn, command.execution_id, command.user_id, "job", command.request, result, reply, refusal
        )
