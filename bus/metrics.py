"""Prometheus metrics of a participant: messages by service, kind and outcome; handler latency; faults."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

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


def serve_metrics(port: int, address: str = "127.0.0.1") -> None:
    """Expose /metrics over HTTP on ``address:port`` (loopback by default)."""
    start_http_server(port, addr=address)
