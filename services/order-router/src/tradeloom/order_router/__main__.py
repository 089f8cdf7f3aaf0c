"""``python -m tradeloom.order_router [run|migrate]``."""

from tradeloom.order_router.app import main

raise SystemExit(main())
