"""A service's tracer exports over OTLP/HTTP when only the standard ``OTEL_EXPORTER_OTLP_ENDPOINT``
is set, and the test receiver decodes what it is sent (service, names, parent links, attributes)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from tradeloom.shared.telemetry import Telemetry
from tradeloom.shared.testing.otlp_receiver import OtlpReceiver


def test_the_standard_otel_endpoint_turns_export_on(monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = OtlpReceiver()
    try:
        for name, value in receiver.environment().items():
            monkeypatch.setenv(name, value)
        telemetry = Telemetry("order-router", "0", CollectorRegistry(), otlp_endpoint=None)
        with (
            telemetry.tracer.start_as_current_span("outer") as outer,
            telemetry.tracer.start_as_current_span("inner", attributes={"order.id": "o-1"}),
        ):
            pass
        assert telemetry.tracer_provider.force_flush(timeout_millis=10_000)
        spans = {s.name: s for s in receiver.spans()}
        assert set(spans) == {"outer", "inner"}
        assert spans["inner"].service == "order-router"
        assert spans["inner"].parent_id == spans["outer"].span_id
        assert spans["inner"].trace_id == format(outer.get_span_context().trace_id, "032x")
        assert spans["inner"].attributes == {"order.id": "o-1"}
        telemetry.shutdown()
    finally:
        receiver.close()
