"""``python -m tradeloom.backtest_engine [run|migrate]``."""

from tradeloom.backtest_engine.app import main

raise SystemExit(main())
