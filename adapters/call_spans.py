"""A CLIENT span per call out of the process: HTTP (Entra's discovery and keys, Microsoft Graph and
its tokens) through httpx transports, and mail handed to the SMTP server.

    httpx.AsyncClient(transport=TracedAsyncTransport(tracer))   # the composition root, tracing on
    TracedMail(SmtpTransport(...), tracer, server="smtp.example.com", port=587)

Only a call made inside a sampled span (a request's, a background batch's) gets a span: the
signing keys' hourly refresh, say, makes none of its own. The URL is recorded without its query
string (a directory search's text is a person's name). No header is added to the call: the trace
stays inside.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from adapters.smtp import SmtpTransport
from domain.mail.outbox import QueuedMail


def _sampled() -> bool:
    return bool(trace.get_current_span().get_span_context().trace_flags.sampled)


@contextmanager
def _http_span(tracer: Tracer, request: httpx.Request) -> Iterator[Span | None]:
    if not _sampled():
        yield None
        return
    url = request.url
    attributes: dict[str, str | int] = {
        "http.request.method": request.method,
        "server.address": url.host,
        "url.full": str(url.copy_with(query=None, fragment=None)),
    }
    if url.port is not None:
        attributes["server.port"] = url.port
    with tracer.start_as_current_span(request.method, kind=SpanKind.CLIENT, attributes=attributes) as span:
        yield span


def _answered(span: Span | None, response: httpx.Response) -> None:
    if span is not None:
        span.set_attribute("http.response.status_code", response.status_code)
        if response.status_code >= 400:
            span.set_status(Status(StatusCode.ERROR))
            span.set_attribute("error.type", str(response.status_code))


class TracedAsyncTransport(httpx.AsyncBaseTransport):
    """httpx's own transport (or `inner`), a span around each request (until its headers arrive)."""

    def __init__(self, tracer: Tracer, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._tracer = tracer
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _http_span(self._tracer, request) as span:
            response = await self._inner.handle_async_request(request)
            _answered(span, response)
            return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class TracedTransport(httpx.BaseTransport):
    """The same for a synchronous client (MSAL's, in a worker thread that carries the caller's context)."""

    def __init__(self, tracer: Tracer, inner: httpx.BaseTransport | None = None) -> None:
        self._tracer = tracer
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with _http_span(self._tracer, request) as span:
            response = self._inner.handle_request(request)
            _answered(span, response)
            return response

    def close(self) -> None:
        self._inner.close()


class TracedMail:
    """The SMTP transport, each send a span (`SMTP send`, the server's address)."""

    def __init__(self, inner: SmtpTransport, tracer: Tracer, *, server: str, port: int) -> None:
        self._inner = inner
        self._tracer = tracer
        self._attributes: dict[str, str | int] = {"server.address": server, "server.port": port}

    async def send(self, mail: QueuedMail) -> None:
        if not _sampled():
            await self._inner.send(mail)
            return
        with self._tracer.start_as_current_span(
            "SMTP send", kind=SpanKind.CLIENT, attributes=self._attributes
        ):
            await self._inner.send(mail)

    async def aclose(self) -> None:
        await self._inner.aclose()
