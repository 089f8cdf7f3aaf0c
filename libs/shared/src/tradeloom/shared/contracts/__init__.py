"""Pydantic models of every event and request: the source the `contracts/` files are generated from."""
