"""The quant package imports, lists its subpackages, and loads no platform or I/O library."""

import json
import subprocess
import sys

FORBIDDEN = ("tradeloom.shared", "nats", "sqlalchemy", "asyncpg", "fastapi", "httpx", "aiohttp", "pandas")

PROBE = """
import importlib, json, sys
module = importlib.import_module("tradeloom.quant")
for name in module.__all__:
    importlib.import_module(f"tradeloom.quant.{name}")
print(json.dumps(sorted(sys.modules)))
"""


def test_quant_imports_every_subpackage_and_nothing_forbidden() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    loaded = json.loads(result.stdout)
    assert "tradeloom.quant.simulator" in loaded
    assert not [name for name in loaded if name.split(".")[0] in FORBIDDEN or name.startswith(FORBIDDEN)]
