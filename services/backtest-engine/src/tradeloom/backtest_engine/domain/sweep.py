"""A search or walk-forward cut into chunks that any replica can evaluate, and merged back.

Every row of a search is independent of the others, and a walk-forward's in-sample searches do not
depend on earlier folds (only its out-of-sample trading does), so every (fold, candidate range) is
a chunk. Merged in ``seq`` order (fold by fold, candidates in order) the tables equal one
``evaluate`` per fold. A chunk's table travels through the database as an npz archive (no pickle),
which keeps each column's dtype (integer parameters stay integers). Pure and synchronous.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradeloom.backtest_engine.domain.optimisation import chunk_size, evaluate_chunk, merge, quant_bars
from tradeloom.backtest_engine.domain.run_plan import RunPlan
from tradeloom.backtest_engine.domain.simulation import BarArrays
from tradeloom.quant.optimise import SearchResults


@dataclass(frozen=True)
class ChunkSpec:
    seq: int
    fold: int
    first: int  # first candidate (index into the plan's candidate list)
    count: int
    bar_start: int
    bar_end: int


def plan_chunks(
    candidate_count: int, windows: Sequence[tuple[int, int]], bar_evaluations: int
) -> list[ChunkSpec]:
    """Chunks of about ``bar_evaluations`` simulated bars over every (in-sample) window."""
    chunks: list[ChunkSpec] = []
    for fold, (start, end) in enumerate(windows):
        size = chunk_size(end - start, bar_evaluations)
        for first in range(0, candidate_count, size):
            count = min(size, candidate_count - first)
            chunks.append(ChunkSpec(len(chunks), fold, first, count, start, end))
    return chunks


def evaluate_spec(plan: RunPlan, bars: BarArrays, spec: ChunkSpec) -> SearchResults:
    assert plan.search is not None
    candidates = plan.search.candidates[spec.first : spec.first + spec.count]
    return evaluate_chunk(plan, quant_bars(bars, spec.bar_start, spec.bar_end), candidates)


def pack_table(table: SearchResults) -> bytes:
    """A chunk's table as an npz archive; the column order rides along in ``__names__``."""
    arrays: dict[str, Any] = {f"p{i}": np.asarray(v) for i, v in enumerate(table.params.values())}
    arrays |= {f"m{i}": np.asarray(v) for i, v in enumerate(table.metrics.values())}
    names = {"params": list(table.params), "metrics": list(table.metrics), "skipped": table.skipped}
    out = io.BytesIO()
    np.savez(out, __names__=np.frombuffer(json.dumps(names).encode(), dtype=np.uint8), **arrays)
    return out.getvalue()


def unpack_table(strategy: str, raw: bytes) -> SearchResults:
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        names = json.loads(archive["__names__"].tobytes())
        params = {name: archive[f"p{i}"] for i, name in enumerate(names["params"])}
        metrics = {name: archive[f"m{i}"] for i, name in enumerate(names["metrics"])}
    return SearchResults(strategy, params, metrics, int(names["skipped"]))


def merge_folds(strategy: str, folds: int, parts: Sequence[tuple[int, SearchResults]]) -> list[SearchResults]:
    """Per fold, its chunks' tables merged in order (``parts`` in ``seq`` order)."""
    return [merge(strategy, [table for fold, table in parts if fold == f]) for f in range(folds)]
