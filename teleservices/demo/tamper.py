"""A man in the middle for the demo: changes a signed request's bytes on their way to the broker."""

from __future__ import annotations

import dataclasses
from typing import Any


class TamperingTransport:
    """Wraps a node's transport; every request's body has ``original`` replaced by ``forged``."""

    def __init__(self, inner: Any, *, original: bytes, forged: bytes) -> None:
        self._inner = inner
        self._original = original
        self._forged = forged

    def request(self, service: str, message: Any, *, timeout: float) -> Any:
        forged = dataclasses.replace(message, body=message.body.replace(self._original, self._forged))
        return self._inner.request(service, forged, timeout=timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
