"""OpenTelemetry tracing and metrics set-up, and trace context carried through NATS headers."""

from __future__ import annotations

import functools
import logging
import os

from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import CollectorRegistry

log = logging.getLogger(__name__)
# the standard variables that turn on OTLP/HTTP export when TL_<PKG>_OTLP_ENDPOINT is not set
OTEL_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


class Telemetry:
    """The providers of one process. Global providers can be set only once, so later calls reuse them."""

    def __init__(self, service: str, version: str, registry: CollectorRegistry, otlp_endpoint: str | None):
        resource = Resource.create({"service.name": service, "service.version": version})
        self.tracer_provider = TracerProvider(resource=resource)
        if exports_traces(otlp_endpoint):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            # the service's own setting wins; else the exporter reads the standard OTEL_* variables
            endpoint = otlp_endpoint.rstrip("/") + "/v1/traces" if otlp_endpoint else None
            self.tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        self.meter_provider = MeterProvider(
            resource=resource, metric_readers=[PrometheusMetricReader(registry=registry)]
        )
        self.owns_global_tracer = not isinstance(trace.get_tracer_provider(), TracerProvider)
        if self.owns_global_tracer:
            trace.set_tracer_provider(self.tracer_provider)
        if not isinstance(metrics.get_meter_provider(), MeterProvider):
            metrics.set_meter_provider(self.meter_provider)
        self.tracer = self.tracer_provider.get_tracer("tradeloom." + service)
        self.meter = self.meter_provider.get_meter("tradeloom." + service)

    def shutdown(self) -> None:
        """Flush; the globally installed provider stays usable for later runtimes in this process."""
        if self.owns_global_tracer:
            self.tracer_provider.force_flush()
        else:
            self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def exports_traces(otlp_endpoint: str | None) -> bool:
    """Whether spans leave the process: the service's OTLP endpoint or a standard OTEL_* one is set.
    Without it spans still give logs and NATS headers their trace ids, but nobody sees them, so
    optional detail spans (the gateway's FastAPI per-operation spans) are not worth their CPU."""
    return bool(otlp_endpoint or any(os.environ.get(name) for name in OTEL_ENDPOINT_VARS))


def inject_trace(headers: dict[str, str]) -> dict[str, str]:
    """Add ``traceparent`` (and ``tracestate``) of the current span to ``headers``."""
    propagate.inject(headers)
    return headers


def extract_trace(headers: dict[str, str] | None) -> Context:
    """The trace context a message carried, to parent the consumer's span."""
    return propagate.extract(headers or {})


def current_trace_ids() -> tuple[str | None, str | None]:
    """(trace id, span id) of the current span as hex, or (None, None)."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def tracer() -> trace.Tracer:
    """The tracer of whichever provider is installed (a no-op one before set-up)."""
    return _tracer_of(trace.get_tracer_provider())


@functools.lru_cache(maxsize=8)
def _tracer_of(provider: trace.TracerProvider) -> trace.Tracer:
    """One tracer per provider: the SDK's ``get_tracer`` builds a new one on every call (a third of
    the CPU of risk-monitor's pre-trade check went there, every request and message asks for it)."""
    return provider.get_tracer("tradeloom")
