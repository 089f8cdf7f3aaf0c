"""Schedules and their runs. A run's primary key (schedule, firing time) is the claim: the replica
whose insert succeeds runs that firing, so several replicas never run it twice.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    statements = [
        f"""CREATE TABLE "{s}".schedules (
            id uuid PRIMARY KEY,
            user_id text NOT NULL,
            name text NOT NULL,
            cron text,
            interval_s integer CHECK (interval_s > 0),
            timezone text NOT NULL,
            action jsonb NOT NULL,
            missed text NOT NULL,
            enabled boolean NOT NULL,
            anchor timestamptz NOT NULL,
            next_run_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((cron IS NULL) <> (interval_s IS NULL)))""",
        f'CREATE INDEX schedules_user_newest_idx ON "{s}".schedules (user_id, id DESC)',
        f'CREATE INDEX schedules_due_idx ON "{s}".schedules (next_run_at) WHERE enabled',
        f"""CREATE TABLE "{s}".schedule_runs (
            schedule_id uuid NOT NULL REFERENCES "{s}".schedules (id) ON DELETE CASCADE,
            scheduled_for timestamptz NOT NULL,
            claimed_by text NOT NULL,
            outcome text NOT NULL,
            detail text NOT NULL DEFAULT '',
            backtest_id text,
            started_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            PRIMARY KEY (schedule_id, scheduled_for))""",
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    s = current_schema()
    for table in ("schedule_runs", "schedules"):
        op.execute(f'DROP TABLE IF EXISTS "{s}".{table}')
