"""The stand-in venue fixture (defined in launcher.py, loaded by path: tests are not packages)."""

import importlib.util
from pathlib import Path
from typing import Any

_spec = importlib.util.spec_from_file_location(
    "standin_launcher", Path(__file__).parent.parent / "standin_venue" / "launcher.py"
)
assert _spec is not None and _spec.loader is not None
launcher: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(launcher)

standin_venue = launcher.standin_venue
