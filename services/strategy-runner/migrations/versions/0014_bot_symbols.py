"""A bot on several symbols: ``bot_symbols``, one row per (bot, symbol) with its own last bar.

``bot_symbols`` (``bot_id``, ``symbol``, ``ord``: 0 for ``bots.symbol``, the first; 1.. for the
others in the order given, ``last_bar_ns``: the newest bar decided on that symbol). Every existing
bot is backfilled with ``(id, symbol, 0, last_bar_ns)``; a trigger gives every new ``bots`` row
(any kind: grid and DCA bots insert their own rows) its first symbol's row, so only a bot's
further symbols are inserted by the service. ``bot_decisions`` gains ``symbol`` (the market a
decision is on; null on rows from before). ``bots.last_bar_ns`` stays the newest bar decided on
any of the bot's symbols.

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
    op.execute(
        f"""CREATE TABLE "{s}".bot_symbols (
            bot_id uuid NOT NULL REFERENCES "{s}".bots(id) ON DELETE CASCADE,
            symbol text NOT NULL,
            ord smallint NOT NULL CHECK (ord >= 0 AND ord < 20),
            last_bar_ns bigint,
            PRIMARY KEY (bot_id, symbol),
            UNIQUE (bot_id, ord)
        )"""
    )
    op.execute(f'CREATE INDEX bot_symbols_symbol_idx ON "{s}".bot_symbols (symbol, bot_id)')
    op.execute(
        f'INSERT INTO "{s}".bot_symbols (bot_id, symbol, ord, last_bar_ns) '
        f'SELECT id, symbol, 0, last_bar_ns FROM "{s}".bots'
    )
    op.execute(
        f"""CREATE FUNCTION "{s}".bot_first_symbol() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO "{s}".bot_symbols (bot_id, symbol, ord, last_bar_ns)
            VALUES (NEW.id, NEW.symbol, 0, NEW.last_bar_ns);
            RETURN NEW;
        END $$"""
    )
    op.execute(
        f'CREATE TRIGGER bots_first_symbol AFTER INSERT ON "{s}".bots '
        f'FOR EACH ROW EXECUTE FUNCTION "{s}".bot_first_symbol()'
    )
    op.execute(f'ALTER TABLE "{s}".bot_decisions ADD COLUMN symbol text')


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".bot_decisions DROP COLUMN symbol')
    op.execute(f'DROP TRIGGER IF EXISTS bots_first_symbol ON "{s}".bots')
    op.execute(f'DROP FUNCTION IF EXISTS "{s}".bot_first_symbol()')
    op.execute(f'DROP TABLE IF EXISTS "{s}".bot_symbols')
