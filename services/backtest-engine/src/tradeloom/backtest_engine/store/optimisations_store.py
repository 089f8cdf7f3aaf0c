"""The ``optimisations`` table: a search's full table (parameter and metric matrices as float64
bytes), its best row, and a walk-forward's folds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.backtest_engine.domain.series import pack_floats, unpack_floats
from tradeloom.quant.optimise import SearchResults
from tradeloom.shared.db import check_schema_name


@dataclass(frozen=True)
class StoredOptimisation:
    method: str
    metric: str
    maximize: bool
    evaluated: int
    skipped: int
    table: SearchResults
    best_params: dict[str, Any] | None
    best_value: float | None
    folds: list[dict[str, Any]]


def _matrix(columns: dict[str, Any]) -> np.ndarray:
    return np.column_stack([columns[name] for name in columns]) if columns else np.empty((0, 0))


class OptimisationsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def save(
        self,
        conn: AsyncConnection,
        backtest_id: str,
        *,
        method: str,
        metric: str,
        maximize: bool,
        evaluated: int,
        table: SearchResults,
        best: tuple[dict[str, Any], float | None] | None,
        folds: list[dict[str, Any]],
    ) -> None:
        """``table``: every evaluated row (a walk-forward's is empty; its ``evaluated`` is per fold)."""
        params, metrics = _matrix(table.params), _matrix(table.metrics)
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".optimisations (backtest_id, method, metric, maximize, evaluated, '
                "skipped, param_names, metric_names, params, metrics, best_params, best_value, folds) "
                "VALUES (:id, :method, :metric, :maximize, :evaluated, :skipped, "
                "CAST(:pnames AS jsonb), CAST(:mnames AS jsonb), :params, :metrics, CAST(:best AS jsonb), "
                ":value, CAST(:folds AS jsonb))"
            ),
            {
                "id": backtest_id,
                "method": method,
                "metric": metric,
                "maximize": maximize,
                "evaluated": evaluated,
                "skipped": table.skipped,
                "pnames": json.dumps(list(table.params)),
                "mnames": json.dumps(list(table.metrics)),
                "params": pack_floats(params.ravel()),
                "metrics": pack_floats(metrics.ravel()),
                "best": json.dumps(best[0]) if best else None,
                "value": best[1] if best else None,
                "folds": json.dumps(folds),
            },
        )

    async def load(self, conn: AsyncConnection, backtest_id: str, strategy: str) -> StoredOptimisation | None:
        row = (
            await conn.execute(
                text(
                    "SELECT method, metric, maximize, evaluated, skipped, param_names, metric_names, "
                    f'params, metrics, best_params, best_value, folds FROM "{self.s}".optimisations '
                    "WHERE backtest_id = :id"
                ),
                {"id": backtest_id},
            )
        ).first()
        if row is None:
            return None
        pnames, mnames = list(row.param_names), list(row.metric_names)
        params = unpack_floats(bytes(row.params)).reshape(-1, max(len(pnames), 1))
        metrics = unpack_floats(bytes(row.metrics)).reshape(-1, max(len(mnames), 1))
        table = SearchResults(
            strategy,
            {name: params[:, i].copy() for i, name in enumerate(pnames)},
            {name: metrics[:, i].copy() for i, name in enumerate(mnames)},
            row.skipped,
        )
        return StoredOptimisation(
            method=row.method,
            metric=row.metric,
            maximize=row.maximize,
            evaluated=row.evaluated,
            skipped=row.skipped,
            table=table,
            best_params=row.best_params,
            best_value=row.best_value,
            folds=list(row.folds),
        )
