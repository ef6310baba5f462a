"""Broker URLs as they may appear in configuration, messages and logs.

A broker setting is one URL or a list of them, comma-separated (``amqp://h1:5672/,amqp://h2:5672/``): the
nodes of one RabbitMQ cluster, tried in order. A comma inside a URL (in a password) is written ``%2C``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit


def split_broker_urls(text: str) -> list[str]:
    """The URLs of a broker setting, in order; ``ValueError`` when it names none."""
    urls = [part.strip() for part in text.split(",") if part.strip()]
    if not urls:
        raise ValueError("no broker URL given")
    return urls


def join_broker_urls(urls: Iterable[str]) -> str:
    """The setting form of a list of URLs (the inverse of ``split_broker_urls``)."""
    return ",".join(url.strip() for url in urls)


def mask_url(url: str) -> str:
    """The URL (or each URL of a comma-separated list) with its password replaced by ``***``."""
    if "," in url:
        return ",".join(mask_url(part.strip()) for part in url.split(",") if part.strip())
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
