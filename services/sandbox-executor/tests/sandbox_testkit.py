"""What the sandbox tests do where the OS cannot isolate a sandbox (not root, no bwrap or setpriv, no
user namespaces for bwrap, cgroups required but not delegated): the service must refuse to run
code there, so the tests assert that refusal and then skip what needs a real sandbox. Any other
reason for not being ready is a bug and fails the test."""

from __future__ import annotations

import pytest

# Reasons SandboxRunner.prepare() gives for a missing OS capability (see sandbox/runner.py).
OS_LIMITS = (
    "must run as root",
    "not found or not executable",
    "cgroups required but",
    "bwrap: ",  # bwrap itself refused in the probe, e.g. no user namespaces in this container
)


def is_os_limit(reason: str) -> bool:
    return any(marker in reason for marker in OS_LIMITS)


def skip_after_refusal(reason: str, refused: str) -> None:
    """Fail unless ``reason`` is a missing OS capability; otherwise skip, saying what was asserted."""
    assert is_os_limit(reason), f"the sandbox is not ready for a reason that is not the OS's: {reason}"
    pytest.skip(f"this OS cannot isolate the sandbox ({reason}); asserted instead: {refused}")
