"""The sandbox runner's answers: output, result, variables, user errors, syntax errors, fail closed."""

from __future__ import annotations

from collections.abc import Callable

from tradeloom.sandbox_executor.domain.limits import Outcome
from tradeloom.sandbox_executor.sandbox.layout import discover_layout
from tradeloom.sandbox_executor.sandbox.runner import (
    RunRequest,
    RunResult,
    SandboxConfig,
    SandboxRunner,
    SandboxUnavailable,
)
from tradeloom.shared.testing.sandbox_uids import uid_base

Run = Callable[..., RunResult]


def test_prints_and_returns_result(run: Run) -> None:
    answer = run("print('hello')\nresult = {'sum': sum(input_data)}", input=[1, 2, 3])
    assert answer.outcome == Outcome.OK and answer.success
    assert answer.stdout == "hello\n" and answer.stderr == ""
    assert answer.result == {"sum": 6}
    assert answer.wall_s > 0 and answer.cpu_s > 0 and answer.peak_memory_bytes > 0


def test_numpy_pandas_and_quant_importable_but_not_the_platform(run: Run) -> None:
    code = (
        "import numpy, pandas, tradeloom.quant\n"
        "result = {'mean': float(numpy.mean([1, 2, 3])), 'rows': len(pandas.DataFrame({'a': [1, 2]}))}\n"
        "blocked = []\n"
        "for name in ('tradeloom.shared', 'tradeloom.sandbox_executor', 'tradeloom.gateway_auth'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "    except ImportError:\n"
        "        blocked.append(name)\n"
        "result['blocked'] = blocked\n"
    )
    answer = run(code, time_limit_s=30, memory_mb=512)
    assert answer.outcome == Outcome.OK, answer
    assert answer.result == {
        "mean": 2.0,
        "rows": 2,
        "blocked": ["tradeloom.shared", "tradeloom.sandbox_executor", "tradeloom.gateway_auth"],
    }


def test_user_exception_is_a_normal_answer_with_traceback(run: Run) -> None:
    answer = run("def f():\n    raise ValueError('bad value')\nprint('before')\nf()")
    assert answer.outcome == Outcome.ERROR and not answer.success
    assert answer.stdout == "before\n"
    assert answer.error is not None
    assert answer.error["type"] == "ValueError" and answer.error["message"] == "bad value"
    assert 'File "<user_code>", line 4' in answer.error["traceback"]
    assert "boot.py" not in answer.error["traceback"]


def test_syntax_error_has_line_and_column(run: Run) -> None:
    answer = run("x = 1\ny = (2,\n")
    assert answer.outcome == Outcome.SYNTAX_ERROR
    assert answer.syntax_error is not None and answer.syntax_error["line"] == 2
    assert answer.syntax_error["column"] == 5


def test_result_not_serialisable_and_variables(run: Run) -> None:
    answer = run("import math\na = 1\nb = [1, 'x']\nc = object()\nresult = {1, 2}", capture_variables=True)
    assert answer.outcome == Outcome.OK
    assert answer.result is None and answer.result_error and "not JSON-serialisable" in answer.result_error
    assert answer.variables == {"a": 1, "b": [1, "x"]}


def test_nan_result_is_refused(run: Run) -> None:
    answer = run("result = float('nan')")
    assert answer.result is None and answer.result_error is not None


def test_exit_codes(run: Run) -> None:
    assert run("import sys; sys.exit(0)").outcome == Outcome.OK
    failed = run("import sys; sys.exit(3)")
    assert failed.outcome == Outcome.ERROR and failed.error and failed.error["type"] == "SystemExit"
    hard = run("import os; os._exit(5)")
    assert hard.outcome == Outcome.ERROR and hard.error and hard.error["type"] == "ProcessExited"


def test_fails_closed_without_bwrap() -> None:
    config = SandboxConfig(bwrap="/nonexistent/bwrap", uid_base=uid_base(211_000))
    runner = SandboxRunner(config, discover_layout())
    isolation = runner.prepare()
    assert not isolation.ready and "bwrap not found" in isolation.reason
    try:
        runner.run(RunRequest(code="print(1)", time_limit_s=1, memory_mb=64))
    except SandboxUnavailable as error:
        assert "bwrap" in str(error)
    else:
        raise AssertionError("ran code without a sandbox")


def test_fails_closed_when_the_uid_is_a_real_user() -> None:
    runner = SandboxRunner(SandboxConfig(uid_base=0, slots=1), discover_layout())
    isolation = runner.prepare()
    assert not isolation.ready and "passwd entry" in isolation.reason


def test_fails_closed_when_the_probe_fails() -> None:
    """A sandbox that starts but does not isolate (here: no seccomp) is refused, not used."""
    runner = SandboxRunner(SandboxConfig(uid_base=uid_base(212_000), slots=1), discover_layout())
    runner._check_probe  # noqa: B018 - the check below is the one prepare() applies
    fake = RunResult(Outcome.OK, "", "", False, False, 0.1, 0.1, 1, result={"uid": 212000, "seccomp": "0"})
    try:
        runner._check_probe(fake)
    except SandboxUnavailable as error:
        assert "seccomp" in str(error)
    else:
        raise AssertionError("accepted a sandbox without seccomp")
