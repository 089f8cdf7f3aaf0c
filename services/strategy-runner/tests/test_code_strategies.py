"""User-code strategies: the source checked without running it; saved, versioned, duplicated."""

from __future__ import annotations

import pytest
from sr_caller import Caller, fields

from tradeloom.shared.contracts.strategy import StrategyInfo, StrategyVersionInfo
from tradeloom.shared.user_code import UserCodeFailed, error_line, signal_indices, signals_program
from tradeloom.strategy_runner.domain.user_code import (
    MAX_CODE_BYTES,
    CodeRefused,
    bar_columns,
    check_code,
    check_code_params,
    signal_names,
)

SMA_CODE = """import numpy as np


def generate_signals(bars, params):
    close = bars["close"]
    n = int(params.get("window", 3))
    mean = np.convolve(close, np.ones(n) / n, mode="full")[: len(close)]
    mean[: n - 1] = np.nan
    above = close > mean
    before = np.concatenate([[False], above[:-1]])
    return {"entry_long": above & ~before, "exit_long": ~above & before}
"""


def test_check_code_names_the_line_without_running_it() -> None:
    check_code(SMA_CODE)
    check_code("raise SystemExit(1)\ndef generate_signals(bars, params):\n    return {}\n")  # not run
    with pytest.raises(CodeRefused) as bad:
        check_code("def generate_signals(bars, params):\n    return {\n\nx = (\n")
    assert bad.value.line is not None and bad.value.line >= 2 and "syntax error" in str(bad.value)
    with pytest.raises(CodeRefused, match="generate_signals"):
        check_code("def signals(bars):\n    return {}\n")
    with pytest.raises(CodeRefused, match="two arguments") as arity:
        check_code("\n\ndef generate_signals(bars):\n    return {}\n")
    assert arity.value.line == 3
    with pytest.raises(CodeRefused, match="at most"):
        check_code("def generate_signals(bars, params):\n    return {}\n" + "#" * MAX_CODE_BYTES)
    with pytest.raises(CodeRefused, match="empty"):
        check_code("  \n")


def test_program_keeps_the_users_lines_and_answers_are_checked() -> None:
    program = signals_program(SMA_CODE)
    assert program.startswith(SMA_CODE.rstrip("\n"))
    trace = 'File "<user_code>", line 7, in generate_signals\nFile "<user_code>", line 40, in __tl'
    assert error_line(trace, SMA_CODE) == 7
    found = signal_indices(4, {"entry_long": [1], "exit_long": [1, 3]})
    assert signal_names(4, found) == ["none", "entry_long", "none", "exit_long"]
    for bad in ({"entry_long": [5]}, {"exit_long": "x"}, [1]):
        with pytest.raises(UserCodeFailed):
            signal_indices(2, bad)
    with pytest.raises(CodeRefused, match=r"params\.w"):
        check_code_params({"w": "x"})

    class B:
        open_ns, open, high, low, close, volume = 7, 1.0, 2.0, 0.5, 1.5, 3.0

    assert bar_columns([B()]) == {
        "open": [1.0],
        "high": [2.0],
        "low": [0.5],
        "close": [1.5],
        "volume": [3.0],
        "time": [7],
    }


async def test_code_strategies_are_saved_versioned_and_refused_with_the_line(alice: Caller) -> None:
    created = StrategyInfo.model_validate(
        await alice(
            "strategies_create", {"name": "mine", "kind": "code", "code": SMA_CODE, "params": {"window": 3}}
        )
    )
    assert (created.kind, created.template, created.latest_version) == ("code", "code", 1)
    v1 = StrategyVersionInfo.model_validate(
        await alice("strategy_versions_get", {"strategy_id": created.strategy_id})
    )
    assert (v1.code, v1.params, v1.graph) == (SMA_CODE, {"window": 3}, None)
    v2 = StrategyVersionInfo.model_validate(
        await alice(
            "strategy_versions_add",
            {"strategy_id": created.strategy_id, "code": SMA_CODE.replace("3", "4"), "note": "slower"},
        )
    )
    assert (v2.version, v2.kind, v2.params) == (2, "code", {})
    versions = await alice("strategy_versions_list", {"strategy_id": created.strategy_id})
    assert [(v["version"], v.get("code")) for v in versions["items"]] == [
        (1, None),
        (2, None),
    ]  # get answers it
    copy = await alice(
        "strategies_duplicate", {"strategy_id": created.strategy_id, "version": 1, "name": "copy"}
    )
    copied = await alice("strategy_versions_get", {"strategy_id": copy["strategy_id"]})
    assert (copy["kind"], copied["code"]) == ("code", SMA_CODE)
    listed = await alice("strategies_list", {"kind": "code"})
    assert {item["name"] for item in listed["items"]} == {"mine", "copy"}

    bad = await alice.error(
        "strategies_create",
        {"name": "bad", "kind": "code", "code": "def generate_signals(bars, params):\n  x = = 1\n"},
    )
    assert (bad.code, fields(bad), bad.details["line"]) == ("validation_error", ["code"], 2)
    assert "line 2" in str(bad)
    missing = await alice.error("strategies_create", {"name": "bad", "kind": "code"})
    assert fields(missing) == ["code"]
    wrong = await alice.error(
        "strategies_create", {"name": "bad", "kind": "code", "code": SMA_CODE, "params": {"w": "x"}}
    )
    assert fields(wrong) == ["params.w"]
    not_template = await alice.error(
        "strategies_create", {"name": "bad", "template": "sma_cross", "code": SMA_CODE}
    )
    assert fields(not_template) == ["code"]
    bad_version = await alice.error(
        "strategy_versions_add", {"strategy_id": created.strategy_id, "code": "def generate_signals(:\n"}
    )
    assert fields(bad_version) == ["code"] and bad_version.details["line"] == 1
    other = await alice.as_user("bob").error("strategy_versions_get", {"strategy_id": created.strategy_id})
    assert other.code == "not_found"
