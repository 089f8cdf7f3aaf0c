"""The command line every service shares: ``run`` (default) and ``migrate``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from tradeloom.shared.aio import run_main
from tradeloom.shared.log_setup import setup_logging
from tradeloom.shared.migrations import migrate
from tradeloom.shared.runtime import ServiceRuntime, StartupError, describe_database
from tradeloom.shared.settings import ServiceSettings, describe_settings_error

EXIT_BAD_SETTINGS = 2
EXIT_UNREACHABLE = 3
EXIT_MIGRATION_FAILED = 4


def fatal(service: str, message: str) -> None:
    """One JSON log line on stderr, no traceback."""
    print(json.dumps({"level": "CRITICAL", "service": service, "message": message}), file=sys.stderr)


def service_main(
    *,
    service: str,
    settings_cls: type[ServiceSettings],
    build: Callable[[ServiceSettings], ServiceRuntime],
    migrations_dir: Path,
    argv: list[str] | None = None,
) -> int:
    """Parse the command, load settings once, and run or migrate."""
    parser = argparse.ArgumentParser(prog=f"python -m tradeloom.{service.replace('-', '_')}")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "migrate"])
    args = parser.parse_args(argv)
    try:
        settings = settings_cls.load()
    except ValidationError as error:
        fatal(service, describe_settings_error(settings_cls, error))
        return EXIT_BAD_SETTINGS
    setup_logging(service, settings.log_level, settings.log_json)
    if args.command == "migrate":
        try:
            migrate(settings.sqlalchemy_url, settings.db_schema, migrations_dir)
        except (OSError, ConnectionError) as error:
            where = describe_database(settings.sqlalchemy_url)
            variable = (settings_cls.env_prefix() + "database_url").upper()
            fatal(service, f"cannot reach Postgres at {where} ({variable}): {error!r}")
            return EXIT_UNREACHABLE
        except SQLAlchemyError as error:
            fatal(
                service,
                f"migration of schema {settings.db_schema} failed: {error.__class__.__name__}: "
                f"{str(error.orig if hasattr(error, 'orig') else error).splitlines()[0]}",
            )
            return EXIT_MIGRATION_FAILED
        logging.getLogger(__name__).info("schema %s migrated", settings.db_schema)
        return 0
    try:
        run_main(build(settings).run_forever())
    except StartupError as error:
        fatal(service, str(error))
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        pass
    return 0
