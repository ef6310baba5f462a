"""Prometheus metrics of a participant (messages by service, kind and outcome; handler latency; faults),
and its health, served together over HTTP: ``/metrics`` and ``/healthz``.

``/healthz`` answers 200 with ``{"status": "ok", ...}`` while the health check passes (the worker's broker
connection is open and its consumers are up) and 503 with ``{"status": "unavailable", ...}`` otherwise:
before the worker started, while its connection is down, after it stopped consuming.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

from prometheus_client import Counter, Histogram
from prometheus_client.exposition import MetricsHandler

MESSAGES = Counter(
    "govbus_messages_total",
    "Messages handled, by service, kind, direction and outcome",
    ["service", "kind", "direction", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "govbus_handler_seconds",
    "Time from receipt to answer, by service",
    ["service"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
FAULTS = Counter("govbus_faults_total", "Faults raised or received, by fault code", ["code"])

HEALTH_PATH = "/healthz"
HealthCheck = Callable[[], tuple[bool, Mapping[str, object]]]
"""Returns (healthy, details); the details are shown as JSON beside the status."""


def _not_started() -> tuple[bool, Mapping[str, object]]:
    return False, {"reason": "no health check registered"}


class _Handler(MetricsHandler):
    health: HealthCheck = staticmethod(_not_started)

    def do_GET(self) -> None:
        if urlsplit(self.path).path != HEALTH_PATH:
            super().do_GET()
            return
        try:
            healthy, details = type(self).health()
        except Exception as error:  # a failing check is an unhealthy worker, never a dead endpoint
            healthy, details = False, {"reason": f"health check failed: {type(error).__name__}"}
        body = json.dumps({"status": "ok" if healthy else "unavailable", **details}).encode()
        self.send_response(200 if healthy else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve_metrics(
    port: int, address: str = "127.0.0.1", *, health: HealthCheck | None = None
) -> ThreadingHTTPServer:
    """Serve /metrics and /healthz on ``address:port`` (loopback by default) from a daemon thread.

    ``port`` 0 picks a free port (``server.server_address``); ``server.shutdown()`` stops it.
    """
    handler = type("HealthMetricsHandler", (_Handler,), {"health": staticmethod(health or _not_started)})
    server = ThreadingHTTPServer((address, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="govbus-metrics", daemon=True).start()
    return server
