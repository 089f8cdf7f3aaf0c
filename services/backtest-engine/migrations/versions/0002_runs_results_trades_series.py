"""Backtest runs, their results, trade records and equity series.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""
        CREATE TABLE "{s}".runs (
            backtest_id text PRIMARY KEY,
            user_id text NOT NULL,
            name text,
            status text NOT NULL
                CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
            phase text NOT NULL DEFAULT 'queued',
            percent double precision NOT NULL DEFAULT 0,
            strategy text NOT NULL,
            params jsonb NOT NULL,
            symbol text NOT NULL,
            venue text,
            timeframe text NOT NULL,
            request jsonb NOT NULL,
            cancel_requested boolean NOT NULL DEFAULT false,
            attempts integer NOT NULL DEFAULT 0,
            error_code text,
            error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            finished_at timestamptz
        )
        """
    )
    op.execute(f'CREATE INDEX runs_user_newest ON "{s}".runs (user_id, backtest_id DESC)')
    op.execute(
        f"""
        CREATE TABLE "{s}".results (
            backtest_id text PRIMARY KEY REFERENCES "{s}".runs ON DELETE CASCADE,
            bar_count integer NOT NULL,
            trade_count integer NOT NULL,
            initial_cash numeric NOT NULL,
            final_equity numeric NOT NULL,
            metrics jsonb NOT NULL,
            max_drawdown jsonb
        )
        """
    )
    op.execute(
        f"""
        CREATE TABLE "{s}".series (
            backtest_id text PRIMARY KEY REFERENCES "{s}".runs ON DELETE CASCADE,
            time_ns bytea NOT NULL,
            equity bytea NOT NULL
        )
        """
    )
    op.execute(
        f"COMMENT ON TABLE \"{s}\".series IS 'little-endian int64 / float64 arrays, one value per bar'"
    )
    op.execute(
        f"""
        CREATE TABLE "{s}".trades (
            backtest_id text NOT NULL REFERENCES "{s}".runs ON DELETE CASCADE,
            seq integer NOT NULL,
            direction smallint NOT NULL,
            entry_index bigint NOT NULL,
            exit_index bigint NOT NULL,
            entry_ns bigint,
            exit_ns bigint,
            entry_price double precision NOT NULL,
            exit_price double precision NOT NULL,
            size double precision NOT NULL,
            pnl double precision NOT NULL,
            trade_return double precision NOT NULL,
            fees double precision NOT NULL,
            mae double precision NOT NULL,
            mfe double precision NOT NULL,
            exit_reason smallint NOT NULL,
            PRIMARY KEY (backtest_id, seq)
        )
        """
    )


def downgrade() -> None:
    s = current_schema()
    for table in ("trades", "series", "results", "runs"):
        op.execute(f'DROP TABLE IF EXISTS "{s}".{table}')
