"""The dev stack's supervisor with tiny programs: capped exponential restarts, the others untouched,
and a stop that ends even a program ignoring its stop signal."""

from __future__ import annotations

import io
import re
import sys
import time

from honcho.printer import Printer

from tools.devstack_supervisor import Program, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]
STUBBORN = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(600)"]  # fmt: skip


def supervise_until(supervisor: Supervisor, done: object, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        supervisor.tick()
        time.sleep(0.02)


def test_a_crashing_program_restarts_with_capped_doubling_delays_while_the_other_runs() -> None:
    out = io.StringIO()
    supervisor = Supervisor(first_s=0.1, max_s=0.4, stable_s=3600, grace_s=10, printer=Printer(out))
    supervisor.add(Program("sleeper", SLEEPER))
    supervisor.add(Program("crasher", CRASHER))
    sleeper = supervisor.states["sleeper"].process
    assert sleeper is not None
    try:
        supervise_until(supervisor, lambda: supervisor.states["crasher"].restarts >= 4)
        delays = re.findall(r"crasher exited \(code 3\); restarting in ([0-9.]+)s", out.getvalue())
        assert delays[:5] == ["0.1", "0.2", "0.4", "0.4", "0.4"][: len(delays[:5])]
        assert len(delays) >= 4
        assert supervisor.states["sleeper"].process is sleeper and sleeper.poll() is None
        assert "sleeper exited" not in out.getvalue()
    finally:
        supervisor.stop()
    assert sleeper.poll() is not None


def test_stop_kills_what_ignores_its_signal_and_restarts_nothing() -> None:
    out = io.StringIO()
    supervisor = Supervisor(first_s=0.1, grace_s=1, printer=Printer(out))
    supervisor.add(Program("stubborn", STUBBORN, group=1))
    supervisor.add(Program("crasher", CRASHER))
    supervise_until(supervisor, lambda: "ready" in out.getvalue())
    stubborn = supervisor.states["stubborn"].process
    assert stubborn is not None
    supervisor.stop()
    assert stubborn.poll() is not None
    assert "stubborn did not stop in 1s: killed" in out.getvalue()
    restarts = supervisor.states["crasher"].restarts
    supervisor.tick()
    crasher = supervisor.states["crasher"]
    assert crasher.restarts == restarts and (crasher.process is None or crasher.process.poll() is not None)
