"""Fills, bot tags of orders, daily marks and the daily equity rows derived from them.

``daily_equity`` is a cache of ``domain.equity.daily_equity`` over the stored fills and marks per
scope (``account`` or ``bot``), rewritten whole for a scope when its inputs change, so it does not
depend on delivery order and a replay rebuilds the same rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NUM = "numeric(38, 18)"
TABLES = ("daily_equity", "marks", "order_bots", "fills")


def upgrade() -> None:
    s = current_schema()
    statements = [
        f"""CREATE TABLE "{s}".fills (
            fill_id text PRIMARY KEY,
            order_id text NOT NULL,
            account_id text NOT NULL,
            user_id text NOT NULL,
            symbol text NOT NULL,
            side text NOT NULL CHECK (side IN ('buy', 'sell')),
            price {NUM} NOT NULL CHECK (price > 0),
            quantity {NUM} NOT NULL CHECK (quantity > 0),
            fee {NUM} NOT NULL CHECK (fee >= 0),
            filled_at timestamptz NOT NULL)""",
        f'CREATE INDEX fills_account_idx ON "{s}".fills (account_id, filled_at)',
        f'CREATE INDEX fills_order_idx ON "{s}".fills (order_id)',
        f'CREATE INDEX fills_user_idx ON "{s}".fills (user_id)',
        f'CREATE INDEX fills_symbol_idx ON "{s}".fills (symbol, account_id)',
        f"""CREATE TABLE "{s}".order_bots (
            order_id text PRIMARY KEY,
            account_id text NOT NULL,
            user_id text NOT NULL,
            bot_id text NOT NULL)""",
        f'CREATE INDEX order_bots_bot_idx ON "{s}".order_bots (bot_id)',
        f"""CREATE TABLE "{s}".marks (
            symbol text NOT NULL,
            day date NOT NULL,
            price {NUM} NOT NULL CHECK (price > 0),
            ts_ns bigint NOT NULL,
            PRIMARY KEY (symbol, day))""",
        f"""CREATE TABLE "{s}".daily_equity (
            scope text NOT NULL CHECK (scope IN ('account', 'bot')),
            scope_id text NOT NULL,
            day date NOT NULL,
            user_id text NOT NULL,
            account_id text NOT NULL,
            equity {NUM} NOT NULL,
            pnl {NUM} NOT NULL,
            exposure {NUM} NOT NULL,
            trades integer NOT NULL,
            PRIMARY KEY (scope, scope_id, day))""",
        f'CREATE INDEX daily_equity_user_idx ON "{s}".daily_equity (user_id, scope, day)',
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    s = current_schema()
    for table in TABLES:
        op.execute(f'DROP TABLE IF EXISTS "{s}".{table}')
