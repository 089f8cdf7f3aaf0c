"""Catalogs of templates and indicators, and indicator series for charts."""
