"""The quant package imports and stays free of platform code."""

import importlib


def test_quant_package_imports() -> None:
    module = importlib.import_module("tradeloom.quant")
    assert module.__all__ == []
