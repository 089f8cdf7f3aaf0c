"""The dev stack's process supervisor: restarts a crashed program with capped exponential backoff.

honcho (which ran the services before) stops every process as soon as one exits, and it never ran
the servers. This keeps honcho's log printer (prefixed, coloured lines) and adds the small restart
policy the stack needs:

- every program (nats-server, Postgres, each service) runs in its own session, so a terminal's
  Ctrl-C reaches only ``make run``, which then stops them in order;
- a program that exits while the stack runs is started again after ``first_s`` seconds, doubled
  after each crash up to ``max_s``; once it has stayed up for ``stable_s`` the delay starts over;
- the others keep running meanwhile (services reconnect to NATS and Postgres on their own);
- ``stop()`` signals the programs group by group (services, then NATS, then Postgres), waits up to
  ``grace_s`` per group and kills what is left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from honcho.printer import Message, Printer

COLOURS = (36, 33, 32, 35, 34, 31, 96, 93, 92, 95, 94)  # honcho's palette: cyan, yellow, green, ...


@dataclass
class Program:
    """One supervised command. ``log`` set: output appended to that file, else printed prefixed."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    cwd: Path | None = None
    ids: tuple[int, int] | None = None  # (uid, gid) to run as; None: as ourselves
    stop_signal: int = signal.SIGTERM
    group: int = 0  # stop order: the highest group stops first
    log: Path | None = None
    ready: Callable[[], bool] | None = None  # only waited for by ``start_and_wait``


@dataclass
class _State:
    program: Program
    colour: int
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay_s: float = 0.0
    restart_at: float | None = None
    restarts: int = 0
    readers: list[threading.Thread] = field(default_factory=list)


class Supervisor:
    def __init__(
        self,
        *,
        first_s: float = 0.5,
        max_s: float = 15.0,
        stable_s: float = 30.0,
        grace_s: float = 15.0,
        printer: Printer | None = None,
    ) -> None:
        self.first_s, self.max_s, self.stable_s, self.grace_s = first_s, max_s, stable_s, grace_s
        self.printer = printer or Printer(width=18)
        self.states: dict[str, _State] = {}
        self.stopping = threading.Event()

    def say(self, text: str) -> None:
        self.printer.write(Message("line", text.encode(), datetime.now(), "devstack", 0))

    def add(self, program: Program) -> None:
        """Start ``program`` now and supervise it from then on."""
        state = _State(program, COLOURS[len(self.states) % len(COLOURS)], delay_s=self.first_s)
        self.states[program.name] = state
        self._spawn(state)

    def start_and_wait(self, program: Program, what: str, timeout_s: float) -> None:
        """``add`` a server, then wait until its ``ready`` check passes (raises RuntimeError if it
        exits or is not ready in ``timeout_s``)."""
        self.add(program)
        state = self.states[program.name]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.stopping.is_set():
            if program.ready is None or program.ready():
                return
            if state.process is None or state.process.poll() is not None:
                tail = program.log.read_text(errors="replace")[-2000:] if program.log else ""
                raise RuntimeError(f"{what} exited at start; log {program.log}:\n{tail}")
            time.sleep(0.1)
        raise RuntimeError(f"{what} did not become ready in {timeout_s:.0f}s; log {program.log}")

    def _spawn(self, state: _State) -> None:
        program = state.program
        uid, gid = program.ids if program.ids else (None, None)
        out: IO[bytes] | int = subprocess.PIPE
        if program.log is not None:
            out = program.log.open("ab")
        try:
            state.process = subprocess.Popen(
                program.argv,
                env=program.env,
                cwd=program.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                user=uid,
                group=gid,
                extra_groups=[] if uid is not None else None,
                start_new_session=True,  # Ctrl-C reaches make run only; it stops us in order
            )
        except OSError as error:
            self.say(f"{program.name}: cannot start: {error}")
            state.process = None
            self._schedule(state, None)
            return
        finally:
            if not isinstance(out, int):
                out.close()
        state.started_at = time.monotonic()
        state.restart_at = None
        if state.process.stdout is not None:
            reader = threading.Thread(target=self._relay, args=(state, state.process.stdout), daemon=True)
            reader.start()
            state.readers = [reader]

    def _relay(self, state: _State, stream: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            self.printer.write(Message("line", line, datetime.now(), state.program.name, state.colour))
        stream.close()

    def _schedule(self, state: _State, code: int | None) -> None:
        """Plan the restart of an exited program: now + its delay; the delay doubles (capped)."""
        if state.process is not None and time.monotonic() - state.started_at >= self.stable_s:
            state.delay_s = self.first_s  # it had been up a while: this crash starts a new series
        state.restart_at = time.monotonic() + state.delay_s
        self.say(f"{state.program.name} exited (code {code}); restarting in {state.delay_s:.1f}s")
        state.delay_s = min(state.delay_s * 2, self.max_s)
        state.process = None

    def tick(self) -> None:
        """One pass: notice exits, restart what is due."""
        for state in self.states.values():
            if state.process is not None:
                code = state.process.poll()
                if code is not None and not self.stopping.is_set():
                    self._schedule(state, code)
            elif (
                state.restart_at is not None
                and time.monotonic() >= state.restart_at
                and not self.stopping.is_set()
            ):
                state.restarts += 1
                self._spawn(state)

    def run(self) -> None:
        """Supervise until ``stopping`` is set (by a signal handler)."""
        while not self.stopping.wait(0.2):
            self.tick()

    def stop(self) -> None:
        """Stop every program, highest group first; SIGKILL after ``grace_s``."""
        self.stopping.set()
        for group in sorted({s.program.group for s in self.states.values()}, reverse=True):
            members = [s for s in self.states.values() if s.program.group == group and s.process]
            for state in members:
                assert state.process is not None
                with contextlib.suppress(ProcessLookupError):  # the program alone: it stops its own
                    os.kill(state.process.pid, state.program.stop_signal)
            deadline = time.monotonic() + self.grace_s
            for state in members:
                assert state.process is not None
                try:
                    state.process.wait(max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    self.say(f"{state.program.name} did not stop in {self.grace_s:.0f}s: killed")
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(state.process.pid, signal.SIGKILL)
                    state.process.wait()
                for reader in state.readers:
                    reader.join(timeout=2)
