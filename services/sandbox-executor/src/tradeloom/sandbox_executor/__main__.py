"""``python -m tradeloom.sandbox_executor [run|migrate]``."""

from tradeloom.sandbox_executor.app import main

raise SystemExit(main())
