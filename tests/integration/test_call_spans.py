"""A span per call out (adapters/call_spans.py), against real servers on loopback: an HTTP call
through httpx (the async client's, and the sync client's MSAL uses from a worker thread) to the
loopback Entra, and a message handed to a real SMTP server. Each a CLIENT child of the span it was
made in, its URL without the query string; none outside a sampled span."""

from __future__ import annotations

import asyncio

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Tracer

from adapters.call_spans import TracedAsyncTransport, TracedMail, TracedTransport
from adapters.smtp import SmtpSettings, SmtpTransport
from tests.support.entra import OPERATOR_TENANT_ID, RunningEntra
from tests.support.smtp import SmtpSink
from tests.unit.test_mailer import queued


def calls(exporter: InMemorySpanExporter, parent: int) -> list[ReadableSpan]:
    """The CLIENT spans made in the span `parent`."""
    spans = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.CLIENT]
    return [span for span in spans if span.parent is not None and span.parent.span_id == parent]


async def test_http_calls_are_client_spans_without_their_query_string(
    entra: RunningEntra, exported: tuple[Tracer, InMemorySpanExporter]
) -> None:
    tracer, exporter = exported
    discovery = f"{entra.base_url}/{OPERATOR_TENANT_ID}/v2.0/.well-known/openid-configuration"
    async with httpx.AsyncClient(transport=TracedAsyncTransport(tracer)) as http:
        await http.get(discovery)  # in no span: no span of its own
        with tracer.start_as_current_span("request") as request:
            assert (await http.get(discovery, params={"search": "Pat Partner"})).status_code == 200
    with (
        httpx.Client(transport=TracedTransport(tracer)) as sync,
        tracer.start_as_current_span("token") as token,
    ):
        # MSAL calls from a worker thread, which carries the caller's context.
        assert (await asyncio.to_thread(sync.get, f"{discovery}?x=1")).status_code == 200

    (asked,) = calls(exporter, request.get_span_context().span_id)
    assert asked.name == "GET"
    assert asked.attributes is not None
    assert asked.attributes["url.full"] == discovery
    assert asked.attributes["http.response.status_code"] == 200
    assert asked.attributes["server.address"] == "127.0.0.1"
    (from_thread,) = calls(exporter, token.get_span_context().span_id)
    assert from_thread.attributes is not None
    assert from_thread.attributes["url.full"] == discovery
    assert len(exporter.get_finished_spans()) == 4  # the two calls' and their parents': none unparented


async def test_a_message_handed_to_the_smtp_server_is_a_client_span(
    smtp_server: SmtpSink, exported: tuple[Tracer, InMemorySpanExporter]
) -> None:
    tracer, exporter = exported
    smtp = SmtpTransport(SmtpSettings(smtp_server.host, smtp_server.port, timeout=5), mail_from="a@b.example")
    traced = TracedMail(smtp, tracer, server=smtp_server.host, port=smtp_server.port)
    with tracer.start_as_current_span("outbox-delivery") as batch:
        await traced.send(queued())

    (sent,) = calls(exporter, batch.get_span_context().span_id)
    assert sent.name == "SMTP send"
    assert sent.attributes is not None
    assert sent.attributes["server.port"] == smtp_server.port
    assert smtp_server.message_ids() == [queued().message_id]
