"""SQL of order-router's schema; every query of user-owned rows is scoped by ``user_id``."""
