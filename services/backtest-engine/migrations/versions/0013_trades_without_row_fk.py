"""Trades stored without a per-row foreign-key check; deleted with their run by a trigger.

The foreign key ``trades.backtest_id → runs`` made Postgres run one referential check (a
``SELECT … FOR KEY SHARE`` of the run) per inserted trade: 2,765 trades of a 100,000-bar run cost
≈ 20 ms of a ≈ 26 ms ``COPY``. Trades are only ever written in the transaction that stores a
run's results, with the run row locked (``RunsStore.lock_running``), so the run exists; the
``ON DELETE CASCADE`` the key gave is kept by a row trigger on ``runs`` (deleting a run is rare).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".trades DROP CONSTRAINT IF EXISTS trades_backtest_id_fkey')
    op.execute(
        f"""CREATE FUNCTION "{s}".delete_run_trades() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN DELETE FROM "{s}".trades WHERE backtest_id = OLD.backtest_id; RETURN OLD; END $$"""
    )
    op.execute(
        f'CREATE TRIGGER runs_delete_trades AFTER DELETE ON "{s}".runs '
        f'FOR EACH ROW EXECUTE FUNCTION "{s}".delete_run_trades()'
    )
    op.execute(
        f'COMMENT ON TABLE "{s}".trades IS '
        "'trade records of a run; no foreign key (one check per row was most of the insert), "
        "deleted with the run by the trigger runs_delete_trades'"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TRIGGER IF EXISTS runs_delete_trades ON "{s}".runs')
    op.execute(f'DROP FUNCTION IF EXISTS "{s}".delete_run_trades()')
    op.execute(
        f'DELETE FROM "{s}".trades t '
        f'WHERE NOT EXISTS (SELECT 1 FROM "{s}".runs r WHERE r.backtest_id = t.backtest_id)'
    )
    op.execute(
        f'ALTER TABLE "{s}".trades ADD CONSTRAINT trades_backtest_id_fkey '
        f'FOREIGN KEY (backtest_id) REFERENCES "{s}".runs ON DELETE CASCADE'
    )
    op.execute(f'COMMENT ON TABLE "{s}".trades IS NULL')
