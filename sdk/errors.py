"""Exceptions of the SDK: what a caller catches and what a handler raises."""

from __future__ import annotations

from bus.faults import Fault, FaultCode


class CallFailed(Fault):
    """A call or notification failed; ``code`` says why (the provider's fault, a timeout, a bad reply).

    ``service_code`` is the teleservice's own refusal code when its handler raised a ``ServiceError``
    with one (``code`` is then ``Server.HandlerError``).
    """

    def __init__(self, code: FaultCode, reason: str, *, service_code: str | None = None) -> None:
        super().__init__(code, reason)
        self.service_code = service_code

    @classmethod
    def of(cls, fault: Fault) -> CallFailed:
        return cls(fault.code, fault.reason, service_code=getattr(fault, "service_code", None))


class ServiceError(Exception):
    """Raised by a handler to refuse a request with a reason (and optionally a code) the caller may read.

    The caller receives ``Server.HandlerError`` with this reason, and ``CallFailed.service_code`` =
    ``code`` (``Service.Refusal`` form, e.g. ``MailOffice.InvalidTransition``). Business outcomes (e.g.
    "unknown company") belong in the response payload instead; this is for requests the service refuses.
    """

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(f"{code}: {reason}" if code else reason)
        self.reason = reason
        self.code = code

    def as_fault(self) -> CallFailed:
        return CallFailed(FaultCode.HANDLER_ERROR, self.reason, service_code=self.code)
