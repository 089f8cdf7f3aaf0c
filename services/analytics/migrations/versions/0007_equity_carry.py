"""Equity carries: per scope, the daily-equity fold's state after its newest fill, so a new fill or
a moved price rewrites the rows from that fill's day on instead of folding every fill again.

A cache like ``daily_equity``: derived from the fills, emptied by a replay, and a missing or
unusable one only means one whole fold (``equity_rewrite.py``). ``symbols`` (every symbol the scope
filled) and ``open_symbols`` (those it holds now) let a price round find the scopes a moved price
changes without reading the fills.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".equity_carry (
            scope text NOT NULL CHECK (scope IN ('account', 'bot')),
            scope_id text NOT NULL,
            user_id text NOT NULL,
            account_id text NOT NULL,
            last_at timestamptz NOT NULL,
            last_fill_id text NOT NULL,
            state text NOT NULL,
            symbols text[] NOT NULL,
            open_symbols text[] NOT NULL,
            PRIMARY KEY (scope, scope_id))"""
    )


def downgrade() -> None:
    op.execute(f'DROP TABLE IF EXISTS "{current_schema()}".equity_carry')
