"""Logging to stderr, each record carrying the id of the request it belongs to.

INCENTIVES_LOG_FORMAT: `text` (the default), one readable line per record; `json`, one JSON object
per line for every record (uvicorn's too), with the trace and span ids of the current span when
OpenTelemetry is installed, and one line per request to /graphql (`api.observe`). Never a token,
an Authorization header or a bank detail: no record carries a request's headers or variables.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

# Set by the request-id middleware; every record logged while serving a request carries it.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class _RequestIds:
    """UUID-shaped ids, unique to this process: a random version-4 UUID's first 20 hex digits, then a
    count. Each id is a string format, where `uuid4()` costs a system call and an object; ids name
    requests in logs, they are not secrets. A forked process (a worker) starts its own series."""

    def __init__(self) -> None:
        self._restart()
        os.register_at_fork(after_in_child=self._restart)

    def _restart(self) -> None:
        self._prefix = str(uuid.uuid4())[:24]
        self._count = itertools.count()

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._count) & 0xFFFF_FFFF_FFFF:012x}"


new_request_id = _RequestIds()


TEXT = "text"
JSON = "json"
FORMATS = (TEXT, JSON)


def _span_ids() -> tuple[str, str] | None:
    """The current span's trace and span ids (W3C hex), when OpenTelemetry is installed and a span is on."""
    try:
        from opentelemetry import trace  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
            "pid": record.process,  # which worker, under `serve --workers N`
        }
        ids = _span_ids()
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        fields = getattr(record, "request", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextLines(logging.Formatter):
    """`2026-12-07T17:50:00.123+00:00 INFO incentives.api [request id] message`."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = f"{at} {record.levelname} {record.name}"
        request = getattr(record, "request_id", None) or request_id.get()
        if request:
            line += f" [{request}]"
        line += f" {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str = "INFO", log_format: str = TEXT) -> None:
    """Send every logger's records to stderr, as `log_format` says (called by the entry points)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == JSON else TextLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    if log_format == JSON:
        # uvicorn's own loggers write through their handlers: theirs become JSON lines too.
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logger = logging.getLogger(name)
            logger.handlers[:] = []
            logger.propagate = True
