"""Exceptions of the SDK: what a caller catches and what a handler raises."""

from __future__ import annotations

from bus.faults import Fault, FaultCode


class CallFailed(Fault):
    """A call or notification failed; ``code`` says why (the provider's fault, a timeout, a bad reply)."""


class ServiceError(Exception):
    """Raised by a handler to refuse a request with a reason the caller may read.

    The caller receives ``Server.HandlerError`` with this reason. Business outcomes (e.g. "unknown
    company") belong in the response payload instead; this is for requests the service cannot serve.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def as_fault(self) -> Fault:
        return Fault(FaultCode.HANDLER_ERROR, self.reason)
