"""Where the traced servers of `--observability` send their spans: an OTLP/HTTP endpoint on
loopback that reads each export and answers it as a collector does (200, an empty
ExportTraceServiceResponse), decoding nothing, in a thread of the benchmark's own process (its CPU
is the benchmark's, as wrk's is). Without an endpoint the SDK would not be installed at all
(`api.tracing`), and the traced rows would measure nothing.

    endpoint = otlp_sink()        # http://127.0.0.1:<port>, started once per process
"""

from __future__ import annotations

import threading
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per export would be the benchmark's noise


@cache
def otlp_sink() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="otlp-sink", daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"
