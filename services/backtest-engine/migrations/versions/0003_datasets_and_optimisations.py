"""Runs from uploaded datasets, optimisation jobs (search and walk-forward) and their tables.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""
        ALTER TABLE "{s}".runs
            ADD COLUMN kind text NOT NULL DEFAULT 'backtest'
                CHECK (kind IN ('backtest', 'search', 'walk_forward')),
            ADD COLUMN dataset_id text,
            ALTER COLUMN symbol DROP NOT NULL,
            ALTER COLUMN timeframe DROP NOT NULL
        """
    )
    op.execute(
        f"""
        CREATE TABLE "{s}".optimisations (
            backtest_id text PRIMARY KEY REFERENCES "{s}".runs ON DELETE CASCADE,
            method text NOT NULL,
            metric text NOT NULL,
            maximize boolean NOT NULL,
            evaluated integer NOT NULL,
            skipped integer NOT NULL,
            param_names jsonb NOT NULL,
            metric_names jsonb NOT NULL,
            params bytea NOT NULL,
            metrics bytea NOT NULL,
            best_params jsonb,
            best_value double precision,
            folds jsonb NOT NULL DEFAULT '[]'
        )
        """
    )
    op.execute(
        f'COMMENT ON TABLE "{s}".optimisations IS '
        "'params/metrics: little-endian float64 row-major matrices, one row per evaluated parameter set'"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE IF EXISTS "{s}".optimisations')
    op.execute(f"DELETE FROM \"{s}\".runs WHERE kind <> 'backtest' OR dataset_id IS NOT NULL")
    op.execute(
        f'ALTER TABLE "{s}".runs DROP COLUMN kind, DROP COLUMN dataset_id, '
        "ALTER COLUMN symbol SET NOT NULL, ALTER COLUMN timeframe SET NOT NULL"
    )
