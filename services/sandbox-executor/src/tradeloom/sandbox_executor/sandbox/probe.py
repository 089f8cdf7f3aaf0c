"""The probe every runner runs inside a real sandbox before it accepts work (fail closed)."""

from __future__ import annotations

from tradeloom.sandbox_executor.domain.limits import Outcome
from tradeloom.sandbox_executor.sandbox.layout import SANDBOX_ENV

PROBE = """
import os, socket
status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines() if ':' in line)
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    inet = 'allowed'
except OSError as error:
    inet = type(error).__name__
result = {'uid': os.getuid(), 'seccomp': status['Seccomp'].strip(),
          'no_new_privs': status['NoNewPrivs'].strip(), 'cap_eff': status['CapEff'].strip(),
          'inet': inet, 'env': sorted(os.environ)}
"""


def probe_problems(outcome: Outcome, result: object, stderr: str, error: object) -> list[str]:
    """Why a probe's answer shows a sandbox that does not isolate (empty when it does)."""
    found = result if isinstance(result, dict) else {}
    problems = []
    if outcome != Outcome.OK:
        problems.append(f"probe ended {outcome}: {stderr[-500:]} {error}")
    elif found.get("uid") in (None, 0) or found.get("seccomp") != "2" or found.get("no_new_privs") != "1":
        problems.append(f"probe ran without uid drop, seccomp or no_new_privs: {found}")
    elif int(str(found.get("cap_eff", "1")), 16) != 0 or found.get("inet") == "allowed":
        problems.append(f"probe kept capabilities or network sockets: {found}")
    elif unexpected := set(found.get("env", [])) - set(SANDBOX_ENV) - {"PWD"}:
        problems.append(f"probe saw unexpected environment variables: {sorted(unexpected)}")
    return problems
