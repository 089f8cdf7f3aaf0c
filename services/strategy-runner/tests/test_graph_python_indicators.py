"""A Python user indicator as a ``user_indicator`` graph node, through real NATS, Postgres and a real
sandbox-executor: its outputs are learned by one probe run, a port it does not give, an unknown
indicator and another user's are issues naming the node, an error in its code names the node and
the line, and the saved version keeps the node with the source copied in. (A bot of such a graph
trades like its backtest in test_bot_parity.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from nats.aio.client import Client
from sandbox_kit import real_sandbox
from sr_caller import Caller, fields

from tradeloom.quant.indicators import sma
from tradeloom.shared.contracts.sandbox import ExecuteReply, UserError
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.sandbox_uids import uid_base
from tradeloom.shared.user_code import SandboxLimits, UserCodeFailed
from tradeloom.strategy_runner.bots.code_signals import CodeSignals
from tradeloom.strategy_runner.domain.bot_decision import Bar, last_signal
from tradeloom.strategy_runner.domain.graph_bot_signals import graph_signal_names, python_outputs

UID_BASE = uid_base(244_000)  # apart from the service default and the other sandbox tests
INDICATOR = """import numpy as np


def compute(bars, params):
    close = bars["close"]
    n = int(params["window"])
    mean = np.convolve(close, np.ones(n) / n, mode="full")[: len(close)]
    mean[: n - 1] = np.nan
    return {"mean": mean, "spread": close - mean}
"""
FAILING = "def compute(bars, params):\n    return {'mean': len(bars) / 0}\n"


def graph(ref: dict[str, Any], port: str = "spread") -> dict[str, Any]:
    """Enter when the indicator's ``port`` goes above 0, exit when it goes below."""
    return {
        "nodes": [
            {"id": "ind", "type": "user_indicator", "indicator": ref},
            {"id": "zero", "type": "const.number", "params": {"value": 0}},
            {"id": "up", "type": "cross.above"},
            {"id": "down", "type": "cross.below"},
            {"id": "enter", "type": "sink.enter_long"},
            {"id": "exit", "type": "sink.exit_long"},
        ],
        "edges": [
            {"source": "ind", "source_port": port, "target": "up", "target_port": "a"},
            {"source": "zero", "target": "up", "target_port": "b"},
            {"source": "ind", "source_port": port, "target": "down", "target_port": "a"},
            {"source": "zero", "target": "down", "target_port": "b"},
            {"source": "up", "target": "enter", "target_port": "when"},
            {"source": "down", "target": "exit", "target_port": "when"},
        ],
    }


@pytest.fixture
async def sandbox(
    pg_server: Any, database_url: str, nats_url: str, nats_prefix: str, nc: Client
) -> AsyncIterator[None]:
    client = ServiceClient(nc, Subjects(nats_prefix))
    async with real_sandbox(pg_server, database_url, nats_url, nats_prefix, client, UID_BASE):
        yield


async def test_a_python_indicator_node_is_validated_by_its_outputs_and_saved_with_its_source(
    alice: Caller, sandbox: None
) -> None:
    made = await alice("user_indicators_create", {"name": "mean", "code": INDICATOR, "params": {"window": 5}})
    ref = {"indicator_id": made["indicator_id"], "version": 1}
    valid = await alice("strategies_validate", {"graph": graph(ref)})
    assert valid["valid"] and valid["sinks"] == ["sink.enter_long", "sink.exit_long"]

    wrong = await alice.error("strategies_validate", {"graph": graph(ref, "slow")})
    assert set(fields(wrong)) == {"graph.nodes.ind.slow"}  # both edges reading it
    assert wrong.details["issues"][0]["code"] == "unknown_port"
    assert "(its outputs: mean, spread)" in wrong.details["issues"][0]["message"]
    for bad in ({**ref, "version": 2}, {**ref, "indicator_id": str(uuid.uuid4())}):
        unknown = await alice.error("strategies_validate", {"graph": graph(bad)})
        assert fields(unknown) == ["graph.nodes.ind.indicator"]
        assert [i["code"] for i in unknown.details["issues"]] == ["unknown_user_indicator"]
    foreign = await alice.as_user("mallory").error(
        "strategies_create", {"name": "x", "kind": "graph", "graph": graph(ref)}
    )
    assert [i["code"] for i in foreign.details["issues"]] == ["unknown_user_indicator"]
    assert fields(foreign) == ["graph.nodes.ind.indicator"]

    failing = await alice("user_indicators_create", {"name": "failing", "code": FAILING})
    broken = await alice.error(
        "strategies_validate",
        {"graph": graph({"indicator_id": failing["indicator_id"], "version": 1}, "mean")},
    )
    assert broken.code == "validation_error" and fields(broken) == ["graph.nodes.ind.indicator"]
    assert broken.details["line"] == 2 and "node ind: line 2: compute raised ZeroDivisionError" in str(broken)

    sent = graph({**ref, "code": "def compute(bars, params):\n    return {}\n", "params": {"window": 99}})
    saved = await alice("strategies_create", {"name": "spread", "kind": "graph", "graph": sent})
    version = await alice("strategy_versions_get", {"strategy_id": saved["strategy_id"]})
    node = version["graph"]["nodes"][0]
    assert node["type"] == "user_indicator"  # kept, not inlined: it runs in the sandbox
    assert node["indicator"] == {**ref, "code": INDICATOR, "params": {"window": 5}}  # the stored ones


def test_a_bots_signals_of_the_graph_fed_the_indicators_series_are_the_builtins() -> None:
    """Fed two SMAs (as its Python indicator would give them), the graph's signal on every bar is
    the built-in sma_cross's on the bars up to it."""
    prices = (
        [120 - 2 * i for i in range(10)]
        + [100 + 3 * i for i in range(1, 11)]
        + [125 - 4 * i for i in range(8)]
    )
    bars = [Bar(i, p, p, p, p) for i, p in enumerate(prices)]
    close = np.array(prices, dtype=np.float64)
    quick, calm = (sma(close, n) for n in (3, 5))
    crossing = graph({"indicator_id": "x", "version": 1}, "quick")
    crossing["edges"] = [
        {**edge, "source_port": "quick"} if edge["target_port"] == "a" else
        {"source": "ind", "source_port": "calm", "target": edge["target"], "target_port": "b"}
        if edge["target_port"] == "b" else edge
        for edge in crossing["edges"]
    ]  # fmt: skip
    crossing["nodes"] = [node for node in crossing["nodes"] if node["id"] != "zero"]
    assert python_outputs(crossing) == {"ind": ("calm", "quick")}
    series = {"ind": {"quick": [None if np.isnan(x) else float(x) for x in quick], "calm": list(calm)}}
    names = graph_signal_names(crossing, bars, series)
    assert names == [
        last_signal("sma_cross", {"fast": 3, "slow": 5}, bars[: i + 1]) for i in range(len(bars))
    ]
    assert {"entry_long", "exit_long"} <= set(names)


def _reply(**fields: Any) -> ExecuteReply:
    base = {"execution_id": "x", "success": True, "stdout": "", "stderr": "", "stdout_truncated": False,
            "stderr_truncated": False, "wall_s": 0.1, "cpu_s": 0.1, "peak_memory_mb": 10.0}  # fmt: skip
    return ExecuteReply.model_validate(base | fields)


class _Answering:
    """A ServiceClient stand-in: every sandbox call answers ``reply`` or raises ``error``."""

    def __init__(self, reply: ExecuteReply | None = None, error: RemoteError | None = None) -> None:
        self.reply, self.error = reply, error

    async def call(self, *_args: Any, **_kwargs: Any) -> Any:
        if self.error is not None:
            raise self.error
        return self.reply


async def test_a_bots_indicator_faults_name_the_node_and_the_sandboxs_are_retried() -> None:
    saved = graph({"indicator_id": "x", "version": 1, "code": FAILING, "params": {}}, "mean")
    row = SimpleNamespace(code=None, graph=saved, user_id="u", params={})
    bars = [Bar(i, 1.0, 1.0, 1.0, 1.0) for i in range(3)]
    traceback = 'File "<user_code>", line 2, in compute\nZeroDivisionError: division by zero'
    error = UserError(type="ZeroDivisionError", message="division by zero", traceback=traceback)
    cases: list[tuple[Any, str]] = [
        (
            _Answering(_reply(success=False, error=error)),
            "node ind: line 2: compute raised ZeroDivisionError",
        ),
        (_Answering(_reply(result={"other": [1.0, 2.0, 3.0]})), "gave no output 'mean'"),
    ]
    for client, message in cases:
        with pytest.raises(UserCodeFailed, match=message):
            await CodeSignals(lambda c=client: c, SandboxLimits(1.0, 64)).of_bot(row, bars)
    busy = _Answering(error=RemoteError("rate_limited", "busy"))
    with pytest.raises(Unavailable):
        await CodeSignals(lambda: busy, SandboxLimits(1.0, 64)).of_bot(row, bars)  # type: ignore[arg-type, return-value]
    plain = SimpleNamespace(code=None, graph=None, user_id="u", params={})
    assert await CodeSignals(lambda: busy, SandboxLimits(1.0, 64)).of_bot(plain, bars) is None  # type: ignore[arg-type, return-value]
