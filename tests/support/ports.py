"""Loopback ports for the servers the tests start.

    port = free_port()    # free now, and handed to no other test of this run

A port picked by binding port 0 is free when picked, but the kernel may hand it out again (to
another test's pick, or as the local port of any outgoing connection) before the server binds it.
These come from below the kernel's ephemeral range (32768 and up on Linux), from a band of each
pytest-xdist worker's own.
"""

from __future__ import annotations

import itertools
import os
import socket

PORT_BAND = 1000
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_PORTS = itertools.cycle(range(20000 + PORT_BAND * _WORKER, 20000 + PORT_BAND * (_WORKER + 1)))


def free_port() -> int:
    """A loopback port no other test of this run is handed, and free now."""
    for _ in range(PORT_BAND):
        port = next(_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in this worker's band of {PORT_BAND}")
