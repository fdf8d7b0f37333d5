"""Traces (OpenTelemetry), from the standard `OTEL_*` settings, read once by the entry point.

    configure_tracing(os.environ)      # api.entry: the SDK and its exporter, or nothing at all
    if tracing_on(): app = TracedGraphQL(app, tracer())   # one server span per /graphql request

Tracing is on when `OTEL_TRACES_EXPORTER` names an exporter (`otlp`, `console`), or, unset, when an
OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`, `..._TRACES_ENDPOINT`). Otherwise nothing is
installed: no span is made, no header read, no SQL changed. The SDK reads the rest itself: the
sampler (`OTEL_TRACES_SAMPLER`, `..._ARG`), the batch processor (`OTEL_BSP_*`), the exporter's
endpoint, headers and timeout, and the resource (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`).

The server span is named and attributed as the GraphQL semantic conventions say (its name the
operation's type; `graphql.operation.type`, `graphql.operation.name`), with the document only as
its hash (`graphql.document.hash`, `sha256:<hex>`, as trusted documents are named), the HTTP
attributes, and `incentives.request_id` (the `X-Request-Id` every log line of the request carries).
An incoming W3C `traceparent` continues the trace; the answer's `traceparent` names the server span.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from graphql import OperationDefinitionNode
from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRACER_NAME = "incentives"
DEFAULT_SERVICE_NAME = "incentives"
_W3C = TraceContextTextMapPropagator()


class TracingMisconfigured(ValueError):
    """An `OTEL_*` setting names what this service cannot do; `serve` refuses to start."""


def configure_tracing(environ: Mapping[str, str]) -> TracerProvider | None:
    """Install the SDK's tracer provider as `environ` asks, or nothing (None) when it asks for no traces."""
    exporters = [_exporter(name, environ) for name in exporters_asked(environ)]
    if not exporters:
        return None
    attributes = {}
    named = environ.get("OTEL_SERVICE_NAME") or "service.name=" in environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    if not named:
        attributes["service.name"] = DEFAULT_SERVICE_NAME
    provider = TracerProvider(resource=Resource.create(attributes))
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def exporters_asked(environ: Mapping[str, str]) -> list[str]:
    """The exporters `environ` asks for (`otlp`, `console`), none when traces are off; a
    `TracingMisconfigured` for what this service cannot do (`serve` checks before it starts)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    names = [name.strip() for name in named.split(",") if name.strip()] or (["otlp"] if endpoint else [])
    if "none" in names:
        return []
    for name in names:
        if name not in ("otlp", "console"):
            raise TracingMisconfigured(f"OTEL_TRACES_EXPORTER={name!r}: use otlp, console or none")
    if "otlp" in names:
        _protocol(environ)
    return names


def _protocol(environ: Mapping[str, str]) -> str:
    """OTLP over HTTP/protobuf (the default) or gRPC, as `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL` says."""
    asked = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    protocol = (asked or "").strip().lower() or "http/protobuf"
    if protocol not in ("http/protobuf", "grpc"):
        raise TracingMisconfigured(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: use http/protobuf or grpc")
    return protocol


def _exporter(name: str, environ: Mapping[str, str]) -> SpanExporter:
    """The exporter; it reads its endpoint, headers, timeout and compression from the environment."""
    if name == "console":
        return ConsoleSpanExporter()
    if _protocol(environ) == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as OverGrpc

        return OverGrpc()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as OverHttp

    return OverHttp()


def tracing_on() -> bool:
    """Whether `configure_tracing` installed the SDK (else every tracer makes no spans)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def tracer() -> Tracer:
    return trace.get_tracer(TRACER_NAME)


def traceparent(span: trace.Span) -> str:
    """The W3C `traceparent` naming `span`."""
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def recording() -> bool:
    """Whether the request (or batch) running now is traced and sampled: its span records."""
    return trace.get_current_span().is_recording()


def name_operation(operation: OperationDefinitionNode | None, document: str) -> None:
    """Name the request's server span for its operation (the conventions' name and attributes); a
    no-op when the request is not traced or not sampled."""
    span = trace.get_current_span()
    if operation is None or not span.is_recording():
        return
    kind = operation.operation.value
    span.update_name(kind)
    span.set_attribute("graphql.operation.type", kind)
    if operation.name is not None:
        span.set_attribute("graphql.operation.name", operation.name.value)
    digest = hashlib.sha256(document.encode()).hexdigest()
    span.set_attribute("graphql.document.hash", f"sha256:{digest}")


class TracedGraphQL:
    """One SERVER span around each HTTP request to /graphql, continuing an incoming `traceparent`,
    and the answer's `traceparent` header naming it."""

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self._tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        carrier: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name in (b"traceparent", b"tracestate"):
                carrier[name.decode()] = value.decode("latin-1")
        parent = _W3C.extract(carrier) if carrier else None
        # Every request has a span, sampled or not (its ids name the request in the log line and
        # the answer's header); only a sampled one is given its attributes, which the samplers
        # this service takes (OTEL_TRACES_SAMPLER) do not read. Started and made current by hand,
        # without `start_as_current_span`'s wrappers: with the attributes left out, an unsampled
        # request's span took 10 to 12 µs in a micro-benchmark, against 17 to 19 µs before.
        span = self._tracer.start_span("GraphQL Operation", context=parent, kind=SpanKind.SERVER)
        if span.is_recording():
            span.set_attributes(_attributes(scope))
        header = (b"traceparent", traceparent(span).encode())

        async def send_traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if span.is_recording():
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                        span.set_attribute("error.type", str(status))
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = context.attach(trace.set_span_in_context(span))
        try:
            await self.app(scope, receive, send_traced)
        except BaseException as error:
            if span.is_recording():
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            raise
        finally:
            context.detach(token)
            span.end()


def _attributes(scope: Scope) -> dict[str, str | int]:
    """A sampled request's HTTP attributes, as the conventions name them."""
    attributes: dict[str, str | int] = {
        "http.request.method": scope["method"],
        "url.path": scope["path"],
        "url.scheme": scope.get("scheme", "http"),
        "network.protocol.version": scope.get("http_version", "1.1"),
        "http.route": "/graphql",
    }
    for name, value in scope["headers"]:
        if name == b"user-agent":
            attributes["user_agent.original"] = value.decode("latin-1")
    client, server = scope.get("client"), scope.get("server")
    if client:
        attributes["client.address"] = client[0]
    if server and server[1] is not None:
        attributes["server.address"], attributes["server.port"] = server[0], server[1]
    request_id = scope.get("state", {}).get("request_id")
    if request_id:
        attributes["incentives.request_id"] = request_id
    return attributes
