"""JSON logs carrying service, trace, span, request and correlation ids."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from tradeloom.shared.context import correlation_id_var, request_id_var
from tradeloom.shared.telemetry import current_trace_ids


class ContextFilter(logging.Filter):
    """Stamps every record with the ids of the work it belongs to."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.trace_id, record.span_id = current_trace_ids()
        record.request_id = request_id_var.get()
        record.correlation_id = correlation_id_var.get()
        return True


def setup_logging(service: str, level: str = "INFO", json_logs: bool = True) -> None:
    """Replace the root handlers with one stderr handler (JSON unless ``json_logs`` is false)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter(service))
    if json_logs:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(trace_id)s %(span_id)s "
                "%(request_id)s %(correlation_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("nats.aio.client", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
