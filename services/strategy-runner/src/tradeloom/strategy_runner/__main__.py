"""``python -m tradeloom.strategy_runner [run|migrate]``."""

from tradeloom.strategy_runner.app import main

raise SystemExit(main())
