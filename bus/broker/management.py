"""A small client of the RabbitMQ management HTTP API: users, permissions, topic permissions, connections.

The HTTP API rather than ``rabbitmqctl``: it is reached over the network (HTTPS in production) with an
administrator's credentials, while ``rabbitmqctl`` needs a shell on the broker host and its Erlang
cookie, which is full control of the node. Every call is idempotent (PUT replaces, DELETE of a missing
resource is not an error), so provisioning can be run again at any time.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from bus.faults import Fault, FaultCode
from bus.transport.urls import mask_url

MANAGED_TAG = "govbus-participant"
"""The tag of the users provisioning manages: it never touches another user (an administrator)."""


def _segment(text: str) -> str:
    return quote(text, safe="")


class Management:
    """The management API at ``url`` (``http(s)://ADMIN:PASSWORD@HOST:PORT/``)."""

    def __init__(self, url: str, *, ca_file: Path | None = None, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"management URL {mask_url(url)!r} must be http(s)://USER:PASSWORD@HOST:PORT/")
        self.url = mask_url(url)
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self._base = f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}/api"
        user, password = unquote(parts.username or ""), unquote(parts.password or "")
        self._auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self._context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
        self._timeout = timeout

    def request(self, method: str, path: str, body: Any = None, *, missing_ok: bool = False) -> Any:
        """One API call; the decoded JSON answer (None when empty). A missing resource is None when
        ``missing_ok``; any other error is ``Fault(BROKER_UNAVAILABLE)`` naming the call."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked in __init__
            self._base + path,
            method=method,
            data=data,
            headers={"Authorization": self._auth, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(  # noqa: S310 - http(s) only, checked in __init__
                request, timeout=self._timeout, context=self._context
            ) as answer:
                text = answer.read()
        except urllib.error.HTTPError as error:
            if error.code == 404 and missing_ok:
                return None
            detail = error.read()[:200].decode(errors="replace")
            raise Fault(
                FaultCode.BROKER_UNAVAILABLE, f"{self.url}: {method} {path}: HTTP {error.code} {detail}"
            ) from None
        except (urllib.error.URLError, OSError) as error:
            raise Fault(FaultCode.BROKER_UNAVAILABLE, f"{self.url}: {method} {path}: {error}") from None
        return json.loads(text) if text else None

    def users(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/users"))

    def put_user(self, name: str, *, password: str | None) -> None:
        """Create or update a managed user; without a password it can log in by certificate only."""
        body: dict[str, Any] = {"tags": MANAGED_TAG}
        if password is None:
            body["password_hash"] = ""
        else:
            body["password"] = password
        self.request("PUT", f"/users/{_segment(name)}", body)

    def delete_user(self, name: str) -> None:
        self.request("DELETE", f"/users/{_segment(name)}", missing_ok=True)

    def permissions(self, vhost: str, user: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.request(
            "GET", f"/permissions/{_segment(vhost)}/{_segment(user)}", missing_ok=True
        )
        return found

    def put_permissions(self, vhost: str, user: str, *, configure: str, write: str, read: str) -> None:
        body = {"configure": configure, "write": write, "read": read}
        self.request("PUT", f"/permissions/{_segment(vhost)}/{_segment(user)}", body)

    def topic_permissions(self, vhost: str, user: str) -> list[dict[str, Any]]:
        found = self.request("GET", f"/topic-permissions/{_segment(vhost)}/{_segment(user)}", missing_ok=True)
        return list(found or [])

    def put_topic_permission(self, vhost: str, user: str, *, exchange: str, write: str, read: str) -> None:
        body = {"exchange": exchange, "write": write, "read": read}
        self.request("PUT", f"/topic-permissions/{_segment(vhost)}/{_segment(user)}", body)

    def close_connections(self, user: str) -> int:
        """Close every connection of ``user`` (open channels cache permission checks); return how many.

        Counted from the broker's connection tracking (``disable_stats``), which knows a connection as
        soon as it is open, and closed by user name, which does not wait for the statistics (they lag
        by seconds, and a connection not in them yet cannot be closed by its name)."""
        listed = self.request("GET", "/connections?disable_stats=true&columns=name,user") or []
        count = sum(1 for connection in listed if connection.get("user") == user)
        if count:
            self.request("DELETE", f"/connections/username/{_segment(user)}", missing_ok=True)
        return count
