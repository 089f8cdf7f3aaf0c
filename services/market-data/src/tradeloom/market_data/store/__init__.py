"""SQL of the market_data schema (asyncpg through SQLAlchemy connections)."""
