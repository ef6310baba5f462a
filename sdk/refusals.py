"""The refusal mapper: a participant's domain errors become faults with its own codes, in one place.

    app.refuse(MailOfficeError)          # error.code and str(error) (or error.reason)

A handler that raises a mapped error answers the caller with ``Server.HandlerError`` and the error's
code as ``CallFailed.service_code``; an unmapped exception stays a handler failure (logged, and the
caller learns only that the service failed). The first matching mapping, in declaration order, wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bus.faults import Fault, FaultCode
from sdk.errors import CallFailed


def default_code(error: BaseException) -> str | None:
    """The error's ``code`` attribute (``Service.Refusal``), if it has one."""
    code = getattr(error, "code", None)
    return str(code) if code is not None else None


def default_reason(error: BaseException) -> str:
    """The error's ``reason`` attribute, else its text."""
    reason = getattr(error, "reason", None)
    return str(reason) if reason is not None else str(error)


@dataclass(frozen=True, slots=True)
class Refusal:
    """How one kind of domain error is answered."""

    error: type[BaseException]
    code: Callable[[Any], str | None] = default_code
    reason: Callable[[Any], str] = default_reason
    fault: FaultCode = FaultCode.HANDLER_ERROR


class Refusals:
    """An ordered set of ``Refusal`` mappings."""

    def __init__(self) -> None:
        self._mappings: list[Refusal] = []

    def add(self, refusal: Refusal) -> None:
        self._mappings.append(refusal)

    def fault_of(self, error: BaseException) -> Fault | None:
        """The fault answering ``error``, or None when no mapping covers it."""
        for refusal in self._mappings:
            if isinstance(error, refusal.error):
                return CallFailed(refusal.fault, refusal.reason(error), service_code=refusal.code(error))
        return None


__all__ = ["Refusal", "Refusals", "default_code", "default_reason"]
