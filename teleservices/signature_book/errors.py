"""Every way the signature book refuses a request or a bundle, each with one stable code.

Codes are ``SignatureBook.*`` (the business faults a bus handler returns with ``sdk.ServiceError``) and
``Bundle.*`` (why an exported bundle does not verify). Certificate refusals keep the bus fault code
(``Client.RevokedCertificate``, ...) so a signature refused by the book reads like a refused message.
"""

from __future__ import annotations


class SignatureBookError(Exception):
    """A refused operation: ``code`` is stable and machine-readable, ``reason`` is for people."""

    code = "SignatureBook.Error"

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(f"{code or self.code}: {reason}")
        self.reason = reason
        if code is not None:
            self.code = code

    def __reduce__(self) -> tuple[object, ...]:
        return _rebuild, (type(self), self.reason, self.code)


def _rebuild(cls: type[SignatureBookError], reason: str, code: str) -> SignatureBookError:
    return cls(reason, code=code)


class InvalidSubmission(SignatureBookError):
    """The folder, its documents, metadata or business type cannot be accepted."""

    code = "SignatureBook.InvalidSubmission"


class InvalidCircuit(SignatureBookError):
    """The circuit (steps, kinds, quorums, signatories) is not well formed."""

    code = "SignatureBook.InvalidCircuit"


class UnknownFolder(SignatureBookError):
    """No folder has this id."""

    code = "SignatureBook.UnknownFolder"


class UnknownDocument(SignatureBookError):
    """The folder has no document of this name."""

    code = "SignatureBook.UnknownDocument"


class FolderClosed(SignatureBookError):
    """The folder is completed or rejected: its circuit accepts no more actions."""

    code = "SignatureBook.FolderClosed"


class NotAssigned(SignatureBookError):
    """The actor is not a signatory of the current step, nor an active substitute of one."""

    code = "SignatureBook.NotAssigned"


class WrongAction(SignatureBookError):
    """The current step asks for another action (a visa where a signature is due, or the reverse)."""

    code = "SignatureBook.WrongAction"


class AlreadyActed(SignatureBookError):
    """This signatory's part of the current step is already done."""

    code = "SignatureBook.AlreadyActed"


class ReasonRequired(SignatureBookError):
    """A rejection must say why."""

    code = "SignatureBook.ReasonRequired"


class InvalidDelegation(SignatureBookError):
    """The delegation is malformed (self, empty or past period) or not active when used."""

    code = "SignatureBook.InvalidDelegation"


class NothingToUndo(SignatureBookError):
    """The actor has no action of their own left to undo in this folder."""

    code = "SignatureBook.NothingToUndo"


class UndoRefused(SignatureBookError):
    """The next step has already acted (or the folder is closed): the action stands."""

    code = "SignatureBook.UndoRefused"


class SignatureRefused(SignatureBookError):
    """A submitted signature does not verify, is not the signatory's, or does not sign this step."""

    code = "SignatureBook.SignatureRefused"


class NotFinished(SignatureBookError):
    """A bundle exists only for a completed folder."""

    code = "SignatureBook.NotFinished"


class StorageCorrupted(SignatureBookError):
    """Stored content no longer matches its digest, or the stored history is broken."""

    code = "SignatureBook.StorageCorrupted"


class ConfigurationError(SignatureBookError):
    """The book's configuration (business types, templates, identities) is unusable."""

    code = "SignatureBook.Configuration"


class BundleInvalid(SignatureBookError):
    """An exported bundle does not verify; ``code`` says which rule broke."""

    code = "Bundle.Invalid"
