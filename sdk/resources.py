"""Per-node resources: what a participant opens when it starts on a node and closes when it stops.

A ``Resource`` is declared once (a store, an outbox pump, a cache) with a setup that yields its value
and tears it down after the ``yield`` (see ``sdk.environment.resource``). Each node keeps the values of
the resources its apps set up in its ``Resources``; a handler reaches them with ``ctx.use(RESOURCE)``
or by a parameter whose default is ``inject(RESOURCE)``. Nothing is shared between nodes: two nodes of
the same participant in one process each have their own values.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class Resource(Generic[T]):
    """A per-node dependency: ``setup(environment)`` is a context manager giving the value."""

    def __init__(self, setup: Callable[[Any], AbstractContextManager[T]], *, name: str) -> None:
        self.setup = setup
        self.name = name

    def __repr__(self) -> str:
        return f"Resource({self.name})"


class Resources:
    """The values of the resources set up on one node (thread-safe)."""

    def __init__(self) -> None:
        self._values: dict[Resource[Any], Any] = {}
        self._lock = threading.Lock()

    def get(self, resource: Resource[T]) -> T:
        """The value of ``resource`` on this node; ``LookupError`` when no started app set it up."""
        with self._lock:
            try:
                return cast(T, self._values[resource])
            except KeyError:
                raise LookupError(
                    f"{resource.name} is not set up on this node: start the app using it"
                ) from None

    def __contains__(self, resource: Resource[Any]) -> bool:
        with self._lock:
            return resource in self._values

    def add(self, resource: Resource[T], value: T) -> None:
        with self._lock:
            if resource in self._values:
                raise ValueError(f"{resource.name} is already set up on this node")
            self._values[resource] = value

    def remove(self, resource: Resource[Any]) -> None:
        with self._lock:
            self._values.pop(resource, None)


class Injected:
    """The default value marking a handler parameter that receives a resource (see ``inject``)."""

    def __init__(self, resource: Resource[Any]) -> None:
        self.resource = resource

    def __repr__(self) -> str:
        return f"inject({self.resource.name})"


def inject(resource: Resource[T]) -> T:
    """``def handler(request, ctx, store: Register = inject(REGISTER))``: the node's value, per call."""
    return cast(T, Injected(resource))


__all__ = ["Injected", "Resource", "Resources", "inject"]
