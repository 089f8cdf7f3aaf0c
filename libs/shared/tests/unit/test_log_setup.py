"""JSON logs carry the service, trace, span, request and correlation ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider

from tradeloom.shared.context import correlation_id_var, request_id_var
from tradeloom.shared.log_setup import setup_logging


@pytest.fixture
def handler_of_setup() -> Iterator[logging.Handler]:
    """The handler ``setup_logging`` installs, taken off the root logger again (pytest owns it)."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        setup_logging("demo-svc", "DEBUG", json_logs=True)
        [handler] = root.handlers
        assert root.level == logging.DEBUG
        assert logging.getLogger("nats.aio.client").level == logging.WARNING
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    yield handler


def capture(handler: logging.Handler) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    logger = logging.getLogger("tests.log_setup")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_with_trace_request_and_correlation_ids(handler_of_setup: logging.Handler) -> None:
    logger, stream = capture(handler_of_setup)
    tracer = TracerProvider().get_tracer("tests")
    request_token = request_id_var.set("req-42")
    correlation_token = correlation_id_var.set("corr-7")
    try:
        with tracer.start_as_current_span("work") as span:
            logger.warning("order %s placed", "o-1", extra={"account": "a-1"})
            context = span.get_span_context()
    finally:
        request_id_var.reset(request_token)
        correlation_id_var.reset(correlation_token)

    [record] = lines(stream)
    assert record["message"] == "order o-1 placed"
    assert record["level"] == "WARNING"
    assert record["logger"] == "tests.log_setup"
    assert record["service"] == "demo-svc"
    assert record["trace_id"] == format(context.trace_id, "032x")
    assert record["span_id"] == format(context.span_id, "016x")
    assert record["request_id"] == "req-42"
    assert record["correlation_id"] == "corr-7"
    assert record["account"] == "a-1"
    assert "time" in record


def test_outside_any_work_the_ids_are_null(handler_of_setup: logging.Handler) -> None:
    logger, stream = capture(handler_of_setup)
    logger.info("idle")
    [record] = lines(stream)
    assert record["message"] == "idle"
    assert record["trace_id"] is None and record["request_id"] is None and record["correlation_id"] is None


def test_exceptions_stay_on_one_json_line(handler_of_setup: logging.Handler) -> None:
    logger, stream = capture(handler_of_setup)
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        logger.exception("failed")
    [record] = lines(stream)
    assert record["message"] == "failed"
    assert "ValueError" in str(record["exc_info"])


def test_plain_text_when_json_is_off() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        setup_logging("demo-svc", "INFO", json_logs=False)
        [handler] = root.handlers
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    logger, stream = capture(handler)
    logger.info("hello")
    assert stream.getvalue() == "INFO tests.log_setup: hello\n"
