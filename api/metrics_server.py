"""`/metrics` of every process of one `incentives serve`, on its own port (never the API's).

The serving process (the supervising parent under `--workers N`) makes a directory for
prometheus-client's multiprocess mode before any worker starts, serves the metrics of every
process that writes there (`api.metrics.Metrics`), marks each worker that exits as dead (its live
gauges leave the sums, its counters stay) and removes the directory at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


class MetricsServer:
    """`/metrics` of every process of one `serve`, on its own port (never the API's)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._made: str | None = None
        self._server: Any = None

    def start(self) -> None:
        """Make the multiprocess directory (unless given one) and serve; before any worker starts."""
        if not os.environ.get(MULTIPROC_DIR):
            self._made = tempfile.mkdtemp(prefix="incentives-metrics-")
            os.environ[MULTIPROC_DIR] = self._made
        from prometheus_client import CollectorRegistry, multiprocess, start_http_server

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        self._server, _ = start_http_server(self.port, addr=self.host, registry=registry)

    def worker_exited(self, pid: int) -> None:
        """A worker's live gauges leave the sums once it is gone."""
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._made is not None:
            shutil.rmtree(self._made, ignore_errors=True)
            os.environ.pop(MULTIPROC_DIR, None)


def on_exit(server: MetricsServer | None) -> Callable[[int], None]:
    """What the supervisor calls with each worker that exits."""
    return (lambda pid: None) if server is None else server.worker_exited
