"""Each request to /graphql seen from outside: its metrics (`api.metrics`) and, under
INCENTIVES_LOG_FORMAT=json, its one log line (`api.logs`). Only in the app when either is on."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import logs, observed
from api.logs import JSON
from api.metrics import Metrics, outcome
from api.observed import ANONYMOUS, Seen
from api.settings import Settings

requests_log = logging.getLogger("incentives.requests")


def observing(app: ASGIApp, settings: Settings) -> ASGIApp:
    """/graphql's endpoint, observed when metrics or JSON logs are on (else as it is: no cost)."""
    log = settings.log_format == JSON
    return Observed(app, log=log) if settings.metrics or log else app


class Observed:
    """Wraps /graphql's endpoint: a `Seen` for the request while it runs, then its record (the
    metrics are the running app's, `Services.metrics`)."""

    def __init__(self, app: ASGIApp, *, log: bool) -> None:
        self.app = app
        self._log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = Seen()
        token = observed.current.set(seen)
        status = 500  # an exception that escapes is uvicorn's 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            observed.current.reset(token)
            seconds = time.perf_counter() - seen.started
            services = scope.get("state", {}).get("services")
            metrics: Metrics | None = getattr(services, "metrics", None)
            if metrics is not None:
                metrics.request(seen, status, seconds)
            if self._log:
                log_request(scope, seen, status, seconds)


def log_request(scope: Scope, seen: Seen, status: int, seconds: float) -> None:
    """The request's line: who asked what, how it ended, how long it took and what it cost."""
    state = scope.get("state", {})
    principal = state.get("principal")
    name = seen.operation_name or ANONYMOUS
    fields = {
        "request_id": state.get("request_id") or logs.request_id.get(),
        "operation_type": seen.operation_type or None,
        "operation_name": name,
        "tenant_id": getattr(principal, "tenant_id", None) or None,
        "caller_object_id": getattr(principal, "object_id", None) or None,
        "status": status,
        "outcome": outcome(seen, status),
        "duration_ms": round(seconds * 1000, 3),
        "cost": seen.cost,
        "sql_statements": seen.statements,
        "planned": seen.planned,
    }
    requests_log.info(
        "%s %s %s %d in %.1f ms",
        scope.get("method"),
        scope.get("path"),
        name,
        status,
        seconds * 1000,
        extra={"request": fields},
    )
