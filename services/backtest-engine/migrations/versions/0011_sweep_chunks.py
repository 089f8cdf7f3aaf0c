"""Distributed searches: one row per chunk of a search or walk-forward, its result once evaluated.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""
        CREATE TABLE "{s}".sweep_chunks (
            backtest_id text NOT NULL REFERENCES "{s}".runs ON DELETE CASCADE,
            seq integer NOT NULL CHECK (seq >= 0),
            fold integer NOT NULL CHECK (fold >= 0),
            first_candidate integer NOT NULL CHECK (first_candidate >= 0),
            candidate_count integer NOT NULL CHECK (candidate_count > 0),
            bar_start integer NOT NULL,
            bar_end integer NOT NULL CHECK (bar_end > bar_start),
            worker text,
            result bytea,
            done_at timestamptz,
            PRIMARY KEY (backtest_id, seq)
        )
        """
    )
    op.execute(
        f'COMMENT ON TABLE "{s}".sweep_chunks IS '
        "'chunks of a distributed search: candidates first_candidate.. on bars bar_start..bar_end of "
        "fold; result: its SearchResults as an npz archive, written once (done_at) by worker'"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE "{s}".sweep_chunks')
