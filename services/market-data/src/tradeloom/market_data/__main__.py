"""``python -m tradeloom.market_data [run|migrate]``."""

from tradeloom.market_data.app import main

raise SystemExit(main())
