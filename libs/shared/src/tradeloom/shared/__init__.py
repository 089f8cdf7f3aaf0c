"""Tradeloom platform library: the mechanisms every service shares (DESIGN sections 2 and 3)."""
