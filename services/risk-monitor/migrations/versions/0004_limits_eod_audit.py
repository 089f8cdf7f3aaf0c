"""More limits (orders per minute, leverage, hard daily loss, trailing drawdown and the starting
balance they are measured from), limits of one bot on an account (``bot_id``, '' otherwise), the
end-of-day balance history, the audit of limit changes, and halts of one account (scope
``account``, ``user_key`` the account id).

``eod_balances`` is derived from the fills (one row per account and trading day, days without
fills included) and rewritten when a late fill changes a past day. ``limit_changes`` is append-only:
who changed which limits of which scope, the old and new values (JSON), when.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NUM = "numeric(38, 18)"


def upgrade() -> None:
    s = current_schema()
    for statement in (
        f"""ALTER TABLE "{s}".limits ADD COLUMN max_orders_per_minute integer,
            ADD COLUMN max_leverage {NUM}, ADD COLUMN max_daily_loss_hard {NUM},
            ADD COLUMN max_drawdown {NUM}, ADD COLUMN starting_balance {NUM},
            ADD COLUMN bot_id text NOT NULL DEFAULT ''""",
        f'ALTER TABLE "{s}".limits DROP CONSTRAINT limits_pkey, '
        "ADD PRIMARY KEY (user_id, account_id, bot_id)",
        f"""CREATE TABLE "{s}".eod_balances (
            account_id text NOT NULL,
            trading_day date NOT NULL,
            user_id text NOT NULL,
            day_pnl {NUM} NOT NULL,
            balance {NUM} NOT NULL,
            high_water {NUM} NOT NULL,
            floor {NUM},
            breached boolean NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (account_id, trading_day))""",
        f"""CREATE TABLE "{s}".limit_changes (
            id bigserial PRIMARY KEY,
            user_id text NOT NULL,
            account_id text NOT NULL,
            bot_id text NOT NULL DEFAULT '',
            changed_by text NOT NULL,
            action text NOT NULL CHECK (action IN ('put', 'delete')),
            old_values jsonb,
            new_values jsonb,
            changed_at timestamptz NOT NULL DEFAULT now())""",
        f'CREATE INDEX limit_changes_user_idx ON "{s}".limit_changes (user_id, changed_at DESC, id DESC)',
        f'ALTER TABLE "{s}".halts DROP CONSTRAINT halts_scope_check',
        f"""ALTER TABLE "{s}".halts ADD CONSTRAINT halts_scope_check
            CHECK (scope IN ('user', 'global', 'account'))""",
    ):
        op.execute(statement)


def downgrade() -> None:
    s = current_schema()
    op.execute(f"DELETE FROM \"{s}\".halts WHERE scope = 'account'")
    op.execute(f'ALTER TABLE "{s}".halts DROP CONSTRAINT halts_scope_check')
    op.execute(
        f"""ALTER TABLE "{s}".halts ADD CONSTRAINT halts_scope_check CHECK (scope IN ('user', 'global'))"""
    )
    op.execute(f'DROP TABLE IF EXISTS "{s}".limit_changes')
    op.execute(f'DROP TABLE IF EXISTS "{s}".eod_balances')
    op.execute(f"DELETE FROM \"{s}\".limits WHERE bot_id <> ''")
    op.execute(f'ALTER TABLE "{s}".limits DROP CONSTRAINT limits_pkey, ADD PRIMARY KEY (user_id, account_id)')
    op.execute(
        f'ALTER TABLE "{s}".limits DROP COLUMN max_orders_per_minute, DROP COLUMN max_leverage, '
        "DROP COLUMN max_daily_loss_hard, DROP COLUMN max_drawdown, DROP COLUMN starting_balance, "
        "DROP COLUMN bot_id"
    )
