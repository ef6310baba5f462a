"""Operate the real RabbitMQ from tests with rabbitmqctl, touching only the test's own connections."""

from __future__ import annotations

import json
import subprocess


def close_connections(name_contains: str, reason: str = "govbus test: forced close") -> int:
    """Force-close every connection whose client-provided name contains ``name_contains``; return how many."""
    listing = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "pid", "client_properties", "--formatter", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    closed = 0
    for connection in json.loads(listing.stdout or "[]"):
        properties = {entry[0]: entry[2] for entry in connection.get("client_properties", [])}
        if name_contains in str(properties.get("connection_name", "")):
            subprocess.run(
                ["rabbitmqctl", "-q", "close_connection", connection["pid"], reason],
                capture_output=True,
                timeout=60,
                check=False,
            )
            closed += 1
    return closed
