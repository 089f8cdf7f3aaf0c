"""``series``: equity, exposure, times and daily arrays compressed with lz4 instead of stored raw.

0004 and 0009 set ``equity``, ``time_ns`` and ``exposure`` to ``STORAGE EXTERNAL`` (out of line,
uncompressed) because pglz spent ≈ 7 ms on a 100,000-bar run's 800 kB equity curve and then
kept it raw anyway (a random walk saves less than pglz's 25 % minimum). lz4 is fast enough to try
every time: measured on that run (Postgres 15, interleaved, load ≈ 2-3), the series insert took
5.6 ms with lz4 against 6.3 ms raw (EXTERNAL) and 13-14 ms with pglz, and the row's 1.64 MB go
down to ≈ 0.81 MB on disk (equity 800 kB → 396 kB, exposure 800 kB → 379 kB): less to write to
TOAST, so no slower and half the disk. ``position`` stays EXTERNAL (codec 1 stores it zlib'd
already). Reads are unchanged (Postgres decompresses on read; the bytes are the same), and rows
written before keep their storage until rewritten.

A server built without lz4 (``feature_not_supported``) keeps the 0004/0009 settings.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COMPRESSED = ("time_ns", "equity", "daily_ns", "daily_pnl", "exposure")


def upgrade() -> None:
    s = current_schema()
    columns = ", ".join(f"ALTER COLUMN {c} SET STORAGE EXTENDED, ALTER COLUMN {c} SET COMPRESSION lz4"
                        for c in COMPRESSED)  # fmt: skip
    op.execute(
        f"""DO $$ BEGIN
            ALTER TABLE "{s}".series {columns};
        EXCEPTION WHEN feature_not_supported THEN
            RAISE NOTICE 'lz4 not supported by this server: series arrays stay uncompressed';
        END $$"""
    )


def downgrade() -> None:
    s = current_schema()
    defaults = ", ".join(f"ALTER COLUMN {c} SET COMPRESSION DEFAULT" for c in COMPRESSED)
    raw = ", ".join(f"ALTER COLUMN {c} SET STORAGE EXTERNAL" for c in ("time_ns", "equity", "exposure"))
    op.execute(f'ALTER TABLE "{s}".series {defaults}, {raw}')
