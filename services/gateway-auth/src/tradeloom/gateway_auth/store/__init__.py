"""SQL of gateway-auth's own schema (SQLAlchemy Core text over asyncpg); one module per table group."""
