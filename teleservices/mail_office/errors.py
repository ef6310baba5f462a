"""The mail office's errors: one class per way an operation is refused, each with a stable code.

Codes are ``MailOffice.*``; over the bus the SDK's refusal mapper (``app.refuse(MailOfficeError)``)
answers them as business faults (``CallFailed.service_code``), the CLI prints them on one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class MailOfficeError(Exception):
    """Base of every refusal the mail office reports to its users."""

    code = "MailOffice.Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(MailOfficeError):
    """The office configuration is unusable (number format, time zone, mail types, services)."""

    code = "MailOffice.InvalidConfiguration"


class InvalidRequest(MailOfficeError):
    """A field of a request does not fit the contract (an empty comment, a two-line subject...)."""

    code = "MailOffice.InvalidRequest"


class InvalidDeposit(MailOfficeError):
    """A deposit the office refuses to register."""

    code = "MailOffice.InvalidDeposit"


class WrongRecipient(InvalidDeposit):
    """The letter is addressed to another administration."""

    code = "MailOffice.WrongRecipient"


class InvalidSender(InvalidDeposit):
    """The sender's identifier does not fit its kind, or does not match the depositing system."""

    code = "MailOffice.InvalidSender"


class UnknownMailType(InvalidDeposit):
    """The mail type is not in the office's catalogue and the office has no default type."""

    code = "MailOffice.UnknownMailType"

    def __init__(self, mail_type: str, known: Iterable[str]) -> None:
        names = ", ".join(sorted(known)) or "none"
        super().__init__(f"unknown mail type {mail_type!r}; this office accepts: {names}")
        self.mail_type = mail_type


class AttachmentDigestMismatch(InvalidDeposit):
    """An attachment's declared SHA-256 digest does not match its content."""

    code = "MailOffice.AttachmentDigestMismatch"


class UnknownRegistration(MailOfficeError):
    """No letter has this registration number in this office."""

    code = "MailOffice.UnknownRegistration"

    def __init__(self, number: str) -> None:
        super().__init__(f"no letter is registered under {number!r}")
        self.number = number


class UnknownAttachment(MailOfficeError):
    """The letter has no attachment with this digest."""

    code = "MailOffice.UnknownAttachment"


class UnknownService(MailOfficeError):
    """The service is not one of the office's services."""

    code = "MailOffice.UnknownService"

    def __init__(self, service: str, known: Iterable[str]) -> None:
        super().__init__(f"unknown service {service!r}; the services are: {', '.join(sorted(known))}")
        self.service = service


class InvalidTransition(MailOfficeError):
    """The action is not allowed in the letter's current status."""

    code = "MailOffice.InvalidTransition"

    def __init__(
        self, number: str, *, direction: str, status: str, action: str, allowed: Mapping[str, str]
    ) -> None:
        if allowed:
            moves = ", ".join(f"{a} (-> {s})" for a, s in allowed.items())
            hint = f"allowed from {status!r}: {moves}"
        else:
            hint = f"{status!r} is final for {direction} mail: no action is allowed"
        super().__init__(f"{number} is {status!r}: cannot {action!r}; {hint}")
        self.number = number
        self.direction = direction
        self.status = status
        self.action = action
        self.allowed = dict(allowed)


class NotDeliverable(MailOfficeError):
    """An acknowledgement does not belong to the outgoing letter it is recorded against."""

    code = "MailOffice.NotDeliverable"


class AttachmentError(MailOfficeError):
    """A stored attachment cannot be read back intact."""

    code = "MailOffice.AttachmentError"


class AttachmentTampered(AttachmentError):
    """A stored attachment's content no longer matches its SHA-256 digest."""

    code = "MailOffice.AttachmentTampered"


class AttachmentMissing(AttachmentError):
    """A stored attachment's file is gone."""

    code = "MailOffice.AttachmentMissing"


class NotAConsultation(MailOfficeError):
    """An answer to a consultation given on a letter that is not another administration's consultation."""

    code = "MailOffice.NotAConsultation"


class NotConsulted(MailOfficeError):
    """An opinion sent by an office that was not asked for one on this letter."""

    code = "MailOffice.NotConsulted"
