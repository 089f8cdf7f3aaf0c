"""User indicators: the code parsed (never run) on save, saved with versions, another user's 404;
the sandbox's program and its answers checked. (Computed over real candles by a real
sandbox-executor in test_bot_parity.)"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sr_caller import Caller, fields

from tradeloom.shared.contracts.sandbox import ExecuteReply, UserError
from tradeloom.shared.errors import Unavailable, ValidationFailed
from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.user_code import FILENAME, SandboxLimits
from tradeloom.shared.user_indicator_code import indicator_program
from tradeloom.strategy_runner.catalogs.user_indicator_runs import UserIndicatorRuns
from tradeloom.strategy_runner.domain.user_code import CodeRefused
from tradeloom.strategy_runner.domain.user_indicator import check_indicator_code

MIDPOINT = """import numpy as np


def compute(bars, params):
    mid = (bars["high"] + bars["low"]) / 2
    lagged = np.concatenate([[np.nan] * int(params["lag"]), mid[: len(mid) - int(params["lag"])]])
    return {"mid": mid, "lagged": lagged}
"""
RAISING = "def compute(bars, params):\n    x = 1\n    return x / 0\n"
COLUMNS: dict[str, Any] = {
    "open": [1.0, 2.0, 3.0], "high": [2.0, 4.0, 6.0], "low": [0.0, 2.0, 2.0],
    "close": [1.0, 3.0, 5.0], "volume": [1.0, 1.0, 1.0], "time": [10, 20, 30],
}  # fmt: skip


@pytest.mark.parametrize(
    ("code", "line"),
    [
        ("def compute(bars, params):\n    return 1 +\n", 2),
        ("def generate_signals(bars, params):\n    return {}\n", 1),
        ("import numpy\n\n\ndef compute(bars):\n    return {}\n", 4),
        ("x = " + "-" * 60_000 + "1\n", None),
    ],
)
def test_bad_source_is_refused_naming_the_line(code: str, line: int | None) -> None:
    with pytest.raises(CodeRefused) as refused:
        check_indicator_code(code)
    assert refused.value.line == line
    assert line is None or str(refused.value).startswith(f"line {line}:")


class _Sandbox:
    """A ServiceClient stand-in: runs the program here (a check of this test's own protocol, never
    what the service does), or answers a given reply or error."""

    def __init__(self, reply: ExecuteReply | None = None, error: RemoteError | None = None) -> None:
        self.reply, self.error = reply, error

    async def call(self, _service: str, _op: str, request: Any, *_args: Any, **_kwargs: Any) -> Any:
        if self.error is not None:
            raise self.error
        if self.reply is not None:
            return self.reply
        namespace: dict[str, Any] = {"input_data": request.input}
        exec(compile(request.code, FILENAME, "exec"), namespace)
        return _reply(result=namespace["result"])


def _reply(**fields: Any) -> ExecuteReply:
    base = {"execution_id": "x", "success": True, "stdout": "", "stderr": "", "stdout_truncated": False,
            "stderr_truncated": False, "wall_s": 0.1, "cpu_s": 0.1, "peak_memory_mb": 10.0}  # fmt: skip
    return ExecuteReply.model_validate(base | fields)


def _runs(sandbox: _Sandbox) -> UserIndicatorRuns:
    return UserIndicatorRuns(lambda: sandbox, SandboxLimits(5.0, 128))  # type: ignore[arg-type, return-value]


async def test_the_program_answers_each_output_per_bar_and_errors_name_the_users_line() -> None:
    outputs = await _runs(_Sandbox()).outputs("u", MIDPOINT, {"lag": 1}, COLUMNS)
    assert outputs == {"mid": [1.0, 3.0, 4.0], "lagged": [None, 1.0, 3.0]}
    short = MIDPOINT.replace('"mid": mid,', '"mid": mid[:2],')
    with pytest.raises(Exception, match="2 values of mid for 3 bars"):
        await _runs(_Sandbox()).outputs("u", short, {"lag": 1}, COLUMNS)
    traceback = f'Traceback:\n  File "{FILENAME}", line 3, in compute\nZeroDivisionError: division by zero'
    error = UserError(type="ZeroDivisionError", message="division by zero", traceback=traceback)
    failed = _Sandbox(_reply(success=False, error=error))
    with pytest.raises(ValidationFailed) as raised:
        await _runs(failed).outputs("u", RAISING, {}, COLUMNS)
    assert (
        raised.value.details["line"] == 3
        and "line 3: compute raised ZeroDivisionError" in raised.value.message
    )
    assert raised.value.details["fields"][0]["field"] == "user_indicator_id"
    bad = _Sandbox(_reply(result={"mid": [1.0]}))
    with pytest.raises(ValidationFailed, match="not 3 values"):
        await _runs(bad).outputs("u", MIDPOINT, {"lag": 1}, COLUMNS)
    with pytest.raises(ValidationFailed, match="time_limit"):
        await _runs(_Sandbox(error=RemoteError("time_limit", "too slow", None))).outputs(
            "u", RAISING, {}, COLUMNS
        )
    with pytest.raises(Unavailable):
        await _runs(_Sandbox(error=RemoteError("rate_limited", "busy", None))).outputs(
            "u", RAISING, {}, COLUMNS
        )
    assert np.isnan(float("nan")) and indicator_program(RAISING).startswith(RAISING)


async def test_user_indicators_are_saved_versioned_listed_and_private(alice: Caller) -> None:
    created = await alice("user_indicators_create", {"name": "mid", "code": MIDPOINT, "params": {"lag": 1}})
    ind = created["indicator_id"]
    assert created["latest_version"] == 1 and created["kind"] == "code"
    bad = await alice.error(
        "user_indicators_create", {"name": "bad", "code": "def compute(bars, params):\n  x = (\n"}
    )
    assert bad.code == "validation_error" and fields(bad) == ["code"] and bad.details["line"] == 2
    assert "line 2" in str(bad)
    invalid = await alice.error("user_indicators_validate", {"code": "def compute(a):\n    pass\n"})
    assert invalid.details["line"] == 1 and fields(invalid) == ["code"]
    assert (await alice("user_indicators_validate", {"code": MIDPOINT}))["valid"] is True
    assert (await alice.error("user_indicators_create", {"name": "mid", "code": MIDPOINT})).code == "conflict"
    v2 = await alice("user_indicators_versions_add", {"indicator_id": ind, "code": RAISING, "note": "oops"})
    assert v2["version"] == 2
    assert (await alice("user_indicators_versions_get", {"indicator_id": ind, "version": 1}))["params"] == {
        "lag": 1
    }
    assert (await alice("user_indicators_versions_get", {"indicator_id": ind}))["code"] == RAISING
    missing = await alice.error("user_indicators_versions_get", {"indicator_id": ind, "version": 9})
    assert missing.code == "not_found"
    assert [i["indicator_id"] for i in (await alice("user_indicators_list"))["items"]] == [ind]
    bob = alice.as_user("bob")
    assert (await bob("user_indicators_list"))["items"] == []
    for op in ("user_indicators_get", "user_indicators_delete", "user_indicators_versions_get"):
        assert (await bob.error(op, {"indicator_id": ind})).code == "not_found", op
    compute = {"user_indicator_id": ind, "symbol": "BTC/USDT"}
    assert (await bob.error("indicators_compute", compute)).code == "not_found"
    both = await alice.error("indicators_compute", {**compute, "indicator": "sma"})
    assert fields(both) == ["indicator"]
    assert fields(await alice.error("indicators_compute", {"symbol": "BTC/USDT"})) == ["indicator"]
    assert (await alice("user_indicators_delete", {"indicator_id": ind}))["deleted"] is True
    assert (await alice.error("user_indicators_get", {"indicator_id": ind})).code == "not_found"
    await graph_indicators_are_compiled_on_save(alice)


GRAPH = {
    "nodes": [
        {"id": "close", "type": "input.close"},
        {"id": "ema", "type": "indicator.ema", "params": {"window": 5}},
        {"id": "fast", "type": "sink.output"},
    ],
    "edges": [
        {"source": "close", "target": "ema", "target_port": "in"},
        {"source": "ema", "target": "fast", "target_port": "value"},
    ],
}


async def graph_indicators_are_compiled_on_save(alice: Caller) -> None:
    """A graph indicator: its outputs named by its sink.output nodes; each problem names its node."""
    checked = await alice("user_indicators_validate", {"kind": "graph", "graph": GRAPH})
    assert checked["outputs"] == ["fast"]
    made = await alice("user_indicators_create", {"name": "ema", "kind": "graph", "graph": GRAPH})
    assert made["kind"] == "graph"
    broken = {**GRAPH, "nodes": [*GRAPH["nodes"], {"id": "buy", "type": "sink.enter_long"}]}
    refused = await alice.error(
        "user_indicators_versions_add", {"indicator_id": made["indicator_id"], "graph": broken}
    )
    issues = {(issue["code"], issue["node"]) for issue in refused.details["issues"]}
    assert ("wrong_graph_kind", "buy") in issues and ("missing_input", "buy") in issues
    code_in_graph = await alice.error(
        "user_indicators_versions_add", {"indicator_id": made["indicator_id"], "code": MIDPOINT}
    )
    assert fields(code_in_graph) == ["code"]
    many = [{"id": f"out{i}", "type": "sink.output"} for i in range(7)]
    wide = {
        "nodes": [GRAPH["nodes"][0], *many],
        "edges": [{"source": "close", "target": node["id"], "target_port": "value"} for node in many],
    }
    too_wide = await alice.error("user_indicators_validate", {"kind": "graph", "graph": wide})
    assert fields(too_wide) == ["graph"] and "at most 6" in str(too_wide)
    version = await alice("user_indicators_versions_get", {"indicator_id": made["indicator_id"]})
    assert version["graph"]["nodes"][2]["type"] == "sink.output" and version["code"] is None
