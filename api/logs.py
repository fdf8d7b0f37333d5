"""Logging: one JSON object per line, each carrying the request id of the request it belongs to."""

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


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send every logger's records to stderr as JSON lines (called by the entry points)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
