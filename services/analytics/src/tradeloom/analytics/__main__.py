"""``python -m tradeloom.analytics [run|migrate]``."""

from tradeloom.analytics.app import main

raise SystemExit(main())
