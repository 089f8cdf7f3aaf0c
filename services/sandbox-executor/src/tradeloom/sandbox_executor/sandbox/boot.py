"""Runs INSIDE the sandbox: compile and execute the user's code, report on the fd named by argv[1].

Standard library only: this file is bind-mounted read-only into the sandbox and must not import
anything of the platform. Protocol: once loaded it writes one READY byte to that fd, then reads
the job as JSON on stdin (``{"code", "input", "capture_variables", "result_max_bytes", "rlimits"}``),
lowers its rlimits to the job's, and writes the report as one JSON object to that fd
(``{"syntax_error"}`` or ``{"error", "result", "result_error", "variables"}``).
"""

import json
import os
import resource
import sys

REPORT_FD = int(sys.argv[1]) if len(sys.argv) > 1 else 3
FILENAME = "<user_code>"
READY = b"\x06"  # the first byte on the report fd (process.READY), before the job is read


def _report(payload: dict[str, object]) -> None:
    data = json.dumps(payload, default=str).encode()
    view = memoryview(data)
    while view:
        written = os.write(REPORT_FD, view)
        view = view[written:]


def _json_or_none(value: object, max_bytes: int) -> tuple[str | None, str | None]:
    """(encoded JSON, None) or (None, reason)."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as error:
        return None, f"not JSON-serialisable: {type(error).__name__}: {error}"
    if len(text) > max_bytes:
        return None, f"larger than {max_bytes} bytes once encoded"
    return text, None


def _variables(scope: dict[str, object], max_bytes: int) -> dict[str, object]:
    import types  # only when variables are captured: a faster start for every run

    captured: dict[str, object] = {}
    budget = max_bytes
    for name, value in scope.items():
        if name.startswith("_") or name in ("input_data",):
            continue
        if isinstance(value, (types.ModuleType, types.FunctionType, type, types.BuiltinFunctionType)):
            continue
        text, _ = _json_or_none(value, budget)
        if text is not None:
            captured[name] = json.loads(text)
            budget -= len(text)
    return captured


def _user_traceback(error: BaseException) -> str:
    """The traceback without this bootstrap's own frames."""
    import traceback  # only on an error: a faster start for every run

    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != FILENAME:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


def main() -> None:
    os.write(REPORT_FD, READY)  # loaded: a worker started ahead of its job may now be handed one
    job = json.loads(sys.stdin.buffer.read())
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for which, soft, hard in job.get("rlimits", ()):  # only ever lowered: no capability to raise
        resource.setrlimit(which, (soft, hard))
    max_bytes = int(job.get("result_max_bytes", 262_144))
    try:
        code = compile(job["code"], FILENAME, "exec")
    except (SyntaxError, ValueError) as error:  # ValueError: source with NUL bytes
        _report(
            {
                "syntax_error": {
                    "type": type(error).__name__,
                    "message": getattr(error, "msg", str(error)),
                    "line": getattr(error, "lineno", None),
                    "column": getattr(error, "offset", None),
                }
            }
        )
        os._exit(0)
    scope = {"__name__": "__main__", "__builtins__": __builtins__, "input_data": job.get("input")}
    report: dict[str, object] = {"error": None, "result": None, "result_error": None, "variables": None}
    try:
        exec(code, scope)  # noqa: S102 - running user code is the point; the OS sandbox is the wall
    except SystemExit as error:
        if error.code not in (None, 0):
            report["error"] = {"type": "SystemExit", "message": str(error.code), "traceback": ""}
    except BaseException as error:
        report["error"] = {
            "type": type(error).__name__,
            "message": str(error)[:4000],
            "traceback": _user_traceback(error)[-16_000:],
        }
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: S110 - a broken stdout must not hide the report
        pass
    if "result" in scope:
        text, reason = _json_or_none(scope["result"], max_bytes)
        report["result"] = None if text is None else json.loads(text)
        report["result_error"] = reason
    if job.get("capture_variables"):
        report["variables"] = _variables(scope, max_bytes)
    _report(report)
    os._exit(0)  # skip the user's atexit handlers and non-daemon threads


if __name__ == "__main__":
    main()
