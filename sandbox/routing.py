"""Send requests for Microsoft's public hosts to the loopback Entra instead: a test and demo seam.

MSAL and the Graph client keep their real URLs (`https://login.microsoftonline.com/{tenant}`,
`https://graph.microsoft.com`), so MSAL's authority checks run unweakened; only the transport
underneath rewrites scheme, host and port to the loopback base and keeps path and query.

    msal_http = routed_msal_http(entra.base_url)       # MsalHttpClient over a RoutingTransport
    graph_http = routed_async_http(entra.base_url)     # httpx.AsyncClient over AsyncRoutingTransport

Every routed request carries `X-Loopback-Public-Base: https://<public host>`, so the loopback
issuer answers discovery "as" that host. Targets must be loopback: anything else is a `ValueError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import httpx

from adapters.msal_http import MsalHttpClient
from auth.keys import is_loopback_host

PUBLIC_BASE_HEADER = "X-Loopback-Public-Base"
LOGIN_HOST = "login.microsoftonline.com"
GRAPH_HOST = "graph.microsoft.com"
_PUBLIC_BASES = frozenset(
    f"https://{host}" for host in (LOGIN_HOST, "login.microsoft.com", "login.windows.net", GRAPH_HOST)
)


def microsoft_routes(loopback_base: str) -> Mapping[str, str]:
    """Route the Entra sign-in host and Microsoft Graph to one loopback base URL."""
    return {LOGIN_HOST: loopback_base, GRAPH_HOST: loopback_base}


def routed_msal_http(loopback_base: str) -> MsalHttpClient:
    """An MSAL HTTP client that sends `login.microsoftonline.com` to `loopback_base`, MSAL none the wiser."""
    transport = RoutingTransport(microsoft_routes(loopback_base))
    return MsalHttpClient(httpx.Client(transport=transport, timeout=10, trust_env=False))


def routed_async_http(loopback_base: str) -> httpx.AsyncClient:
    """An async client that sends `graph.microsoft.com` (and the sign-in host) to `loopback_base`."""
    transport = AsyncRoutingTransport(microsoft_routes(loopback_base))
    return httpx.AsyncClient(transport=transport, timeout=10, trust_env=False)


def _checked(routes: Mapping[str, str]) -> Mapping[str, httpx.URL]:
    checked: dict[str, httpx.URL] = {}
    for public_host, target in routes.items():
        url = httpx.URL(target)
        if url.scheme != "http" or not is_loopback_host(url.host) or url.path not in ("", "/"):
            # A seam that could send Microsoft-bound credentials anywhere else would be a leak.
            raise ValueError(f"requests may be routed to a loopback base URL only, not {target!r}")
        checked[public_host.lower()] = url
    return MappingProxyType(checked)


def _rerouted(request: httpx.Request, routes: Mapping[str, httpx.URL]) -> httpx.Request:
    target = routes.get(request.url.host.lower())
    if target is None:
        return request
    headers = httpx.Headers(request.headers)
    headers[PUBLIC_BASE_HEADER] = f"https://{request.url.host}"
    headers["Host"] = target.netloc.decode("ascii")
    url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
    return httpx.Request(
        request.method, url, headers=headers, stream=request.stream, extensions=request.extensions
    )


class RoutingTransport(httpx.BaseTransport):
    """A sync transport sending the routed hosts' requests to loopback, and no others anywhere."""

    def __init__(self, routes: Mapping[str, str], inner: httpx.BaseTransport | None = None) -> None:
        self._routes = _checked(routes)
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(_only_loopback(_rerouted(request, self._routes)))

    def close(self) -> None:
        self._inner.close()


class AsyncRoutingTransport(httpx.AsyncBaseTransport):
    """The async twin of `RoutingTransport`, for `httpx.AsyncClient`."""

    def __init__(self, routes: Mapping[str, str], inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._routes = _checked(routes)
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(_only_loopback(_rerouted(request, self._routes)))

    async def aclose(self) -> None:
        await self._inner.aclose()


def _only_loopback(request: httpx.Request) -> httpx.Request:
    # Tests run offline: a host nobody routed fails loudly instead of reaching the internet.
    if not is_loopback_host(request.url.host):
        raise httpx.ConnectError(f"{request.url.host} is not routed to loopback", request=request)
    return request


def public_base_from(headers: Mapping[str, str]) -> str | None:
    """The public base a routed request was meant for, or None for a plain loopback request.

    Only Microsoft's sign-in hosts are honoured, so a loopback caller cannot make the issuer
    publish endpoints on a host of its choosing; any other value is ignored.
    """
    value = headers.get(PUBLIC_BASE_HEADER.lower()) or headers.get(PUBLIC_BASE_HEADER)
    return value if value in _PUBLIC_BASES else None
