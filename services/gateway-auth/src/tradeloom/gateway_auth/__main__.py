"""``python -m tradeloom.gateway_auth [run|migrate]``."""

from tradeloom.gateway_auth.app import main

raise SystemExit(main())
