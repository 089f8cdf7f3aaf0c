"""``series.codec``: how ``time_ns`` and ``position`` are packed (0 raw, 1 compact).

A 100,000-bar run wrote four 800 kB arrays (times, equity, position, exposure) out of line; the
times are almost always evenly spaced and the position is a step function (it changes only at
fills), so codec 1 stores ``time_ns`` as zlib (level 1) of its little-endian int64 first value and
differences, and ``position`` as zlib of its little-endian float64 values: ≈ 4 kB and ≈ 40 kB
instead of 1.6 MB, for ≈ 2.5 ms of compression. ``equity``, ``exposure`` and the daily arrays stay
raw in both codecs. Rows written before this migration are codec 0 and read as before. A
downgrade deletes the runs stored compact (the code before it cannot read them).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".series ADD COLUMN codec smallint NOT NULL DEFAULT 0')
    op.execute(
        f'COMMENT ON COLUMN "{s}".series.codec IS '
        "'0: every array raw little-endian; 1: time_ns = zlib of int64 first value and differences, "
        "position = zlib of float64 values, the rest raw'"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(
        f'DELETE FROM "{s}".runs WHERE backtest_id IN (SELECT backtest_id FROM "{s}".series WHERE codec <> 0)'
    )
    op.execute(f'ALTER TABLE "{s}".series DROP COLUMN codec')
