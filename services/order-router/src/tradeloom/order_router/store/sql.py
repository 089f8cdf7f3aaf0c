"""``sql``: SQLAlchemy's ``text`` with its clauses kept (an LRU of the statement texts).

The stores build each statement from the schema name and column lists, so the same few hundred
texts recur on every order; parsing one again into a ``TextClause`` (a regex over the text for its
bind parameters) showed up in the order path's profile. The texts carry no values (those are bind
parameters), so the cache stays small.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import TextClause, text


@lru_cache(maxsize=1024)
def sql(statement: str) -> TextClause:
    """The ``TextClause`` of ``statement``, parsed once (a ``TextClause`` is never mutated)."""
    return text(statement)
