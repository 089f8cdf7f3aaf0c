"""``python -m tradeloom.risk_monitor [run|migrate]``."""

from tradeloom.risk_monitor.app import main

raise SystemExit(main())
