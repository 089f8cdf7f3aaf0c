"""The ``sweep_chunks`` table: the chunks of a distributed search and their results (written once)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.backtest_engine.domain.sweep import ChunkSpec
from tradeloom.shared.db import check_schema_name

_SPEC = "seq, fold, first_candidate, candidate_count, bar_start, bar_end"


class ChunksStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def insert(self, conn: AsyncConnection, backtest_id: str, chunks: Sequence[ChunkSpec]) -> None:
        """The run's chunks (a redelivered run command finds them there and adds nothing)."""
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".sweep_chunks (backtest_id, {_SPEC}) '
                "VALUES (:id, :seq, :fold, :first, :count, :start, :end) ON CONFLICT DO NOTHING"
            ),
            [
                {
                    "id": backtest_id,
                    "seq": c.seq,
                    "fold": c.fold,
                    "first": c.first,
                    "count": c.count,
                    "start": c.bar_start,
                    "end": c.bar_end,
                }
                for c in chunks
            ],
        )

    async def get(self, conn: AsyncConnection, backtest_id: str, seq: int) -> tuple[ChunkSpec, bool] | None:
        """The chunk and whether its result is stored already."""
        row = await conn.execute(
            text(
                f'SELECT {_SPEC}, done_at IS NOT NULL AS done FROM "{self.s}".sweep_chunks '
                "WHERE backtest_id = :id AND seq = :seq"
            ),
            {"id": backtest_id, "seq": seq},
        )
        found = row.first()
        if found is None:
            return None
        spec = ChunkSpec(found.seq, found.fold, found.first_candidate, found.candidate_count,
                         found.bar_start, found.bar_end)  # fmt: skip
        return spec, bool(found.done)

    async def save(
        self, conn: AsyncConnection, backtest_id: str, seq: int, worker: str, result: bytes
    ) -> bool:
        """Store the chunk's result unless one is stored already (then False: counted once)."""
        row = await conn.execute(
            text(
                f'UPDATE "{self.s}".sweep_chunks SET result = :result, worker = :worker, '
                "done_at = clock_timestamp() WHERE backtest_id = :id AND seq = :seq AND done_at IS NULL "
                "RETURNING 1"
            ),
            {"id": backtest_id, "seq": seq, "worker": worker, "result": result},
        )
        return row.first() is not None

    async def counts(self, conn: AsyncConnection, backtest_id: str) -> tuple[int, int]:
        """(chunks done, chunks in all)."""
        row = await conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE done_at IS NOT NULL) AS done, count(*) AS total "
                f'FROM "{self.s}".sweep_chunks WHERE backtest_id = :id'
            ),
            {"id": backtest_id},
        )
        found = row.one()
        return int(found.done), int(found.total)

    async def results(self, conn: AsyncConnection, backtest_id: str) -> list[tuple[int, bytes]]:
        """(fold, result) of every chunk in ``seq`` order."""
        rows = await conn.execute(
            text(f'SELECT fold, result FROM "{self.s}".sweep_chunks WHERE backtest_id = :id ORDER BY seq'),
            {"id": backtest_id},
        )
        return [(int(r.fold), bytes(r.result)) for r in rows]

    async def workers(self, conn: AsyncConnection, backtest_id: str) -> dict[str, int]:
        """Chunks evaluated per worker (who took part)."""
        rows = await conn.execute(
            text(
                f'SELECT worker, count(*) AS n FROM "{self.s}".sweep_chunks WHERE backtest_id = :id '
                "AND done_at IS NOT NULL GROUP BY worker"
            ),
            {"id": backtest_id},
        )
        return {str(r.worker): int(r.n) for r in rows}
