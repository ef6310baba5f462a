"""Workers' health, scraped from the endpoints ``govbus run --metrics-port`` serves: ``/healthz`` (200
with ``{"status": "ok"}`` when healthy, 503 otherwise) and ``/metrics`` (Prometheus text). A worker that
does not answer within the timeout is down; nothing a worker answers is trusted beyond being shown."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

TIMEOUT = 2.0
SHOWN = ("govbus_messages_total", "govbus_faults_total")


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    name: str
    url: str
    up: bool
    """The health endpoint answered 200 with status ok."""
    status: str
    details: dict[str, str] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    """Sum of each counter in ``SHOWN`` (messages, faults), when /metrics answered."""


def _scrape(name: str, url: str) -> WorkerHealth:
    base = url.rstrip("/")
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            health = client.get(base + "/healthz")
            try:
                body = health.json()
            except (json.JSONDecodeError, ValueError):
                body = {}
            details = {str(k)[:64]: str(v)[:200] for k, v in body.items()} if isinstance(body, dict) else {}
            status = details.pop("status", f"HTTP {health.status_code}")
            up = health.status_code == 200 and status == "ok"
            totals: dict[str, float] = {}
            metrics = client.get(base + "/metrics")
            if metrics.status_code == 200:
                for family in text_string_to_metric_families(metrics.text[: 2 * 1024 * 1024]):
                    if family.name + "_total" in SHOWN or family.name in SHOWN:
                        key = family.name if family.name.endswith("_total") else family.name + "_total"
                        totals[key] = sum(s.value for s in family.samples if s.name.endswith("_total"))
    except httpx.HTTPError as error:
        return WorkerHealth(name, url, False, "injoignable", {"erreur": type(error).__name__})
    except ValueError as error:  # unreadable metrics text
        return WorkerHealth(name, url, False, "réponse illisible", {"erreur": str(error)[:200]})
    return WorkerHealth(name, url, up, status, details, totals)


def scrape_all(workers: dict[str, str]) -> list[WorkerHealth]:
    """Every configured worker's health, asked in parallel (each within ``TIMEOUT``)."""
    if not workers:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(workers))) as pool:
        return list(pool.map(lambda item: _scrape(*item), sorted(workers.items())))
