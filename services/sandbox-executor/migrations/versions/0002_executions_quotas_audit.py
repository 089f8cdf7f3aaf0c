"""Executions, per-user daily quota usage and the audit trail.

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
        CREATE TABLE "{s}".executions (
            execution_id text PRIMARY KEY,
            user_id text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('sync', 'job')),
            status text NOT NULL CHECK (status IN ('queued', 'running', 'finished')),
            code_sha256 text NOT NULL,
            code_chars integer NOT NULL,
            time_limit_s double precision NOT NULL,
            memory_mb integer NOT NULL,
            outcome text,
            success boolean,
            error_code text,
            wall_s double precision,
            cpu_s double precision,
            peak_memory_mb double precision,
            reply jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            deadline_at timestamptz,
            finished_at timestamptz
        )
        """
    )
    op.execute(f'CREATE INDEX executions_user_created ON "{s}".executions (user_id, created_at DESC)')
    op.execute(
        f"""CREATE INDEX executions_user_running ON "{s}".executions (user_id) WHERE status = 'running'"""
    )
    op.execute(
        f"""
        CREATE TABLE "{s}".quota_usage (
            user_id text NOT NULL,
            day date NOT NULL,
            cpu_seconds double precision NOT NULL DEFAULT 0,
            executions integer NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, day)
        )
        """
    )
    op.execute(
        f"""
        CREATE TABLE "{s}".audit (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT now(),
            user_id text NOT NULL,
            execution_id text,
            code_sha256 text NOT NULL,
            time_limit_s double precision,
            memory_mb integer,
            outcome text NOT NULL,
            error_code text,
            wall_s double precision,
            cpu_s double precision,
            peak_memory_mb double precision,
            detail text
        )
        """
    )
    op.execute(f'CREATE INDEX audit_user_at ON "{s}".audit (user_id, at DESC)')


def downgrade() -> None:
    s = current_schema()
    for table in ("audit", "quota_usage", "executions"):
        op.execute(f'DROP TABLE IF EXISTS "{s}".{table}')
