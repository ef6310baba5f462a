"""Checking an acknowledgement of receipt: the office's signed response envelope, as the portal hands it out.

An acknowledgement stays valid long after its envelope's five-minute lifetime, so the time rules
(message window, certificate validity and revocation) are judged at the moment the envelope says it
was issued, as ``govbus envelope verify --at issued`` does; every other rule of the bus verifier
applies unchanged. On top of them: the envelope must be an office's response to ``mail.deposit`` (or to
``mail.register-counter``, for a letter handed in at its counter) carrying an ``Acknowledgement`` in which
the office names itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import lxml.etree as etree

from bus.envelope import EnvelopeVerifier, MessageKind
from bus.envelope.codec import HEADER_TAG, payload_of
from bus.envelope.model import parse_timestamp
from bus.xml import parse_untrusted, whole_text
from sdk import Fault, FaultCode
from sdk.contract import decode
from teleservices.mail_office import DEPOSIT, REGISTER_COUNTER, SCHEMA, Acknowledgement
from web.i18n import N_

MAX_ACKNOWLEDGEMENT_BYTES = 1024 * 1024
NOT_AN_ACKNOWLEDGEMENT = "Portal.NotAnAcknowledgement"
SIGNER_MISMATCH = "Portal.SignerMismatch"

EXPLANATIONS = {
    str(FaultCode.INVALID_SIGNATURE): N_("The file was changed after the administration signed it."),
    str(FaultCode.INVALID_REFERENCE): N_("The file was changed after the administration signed it."),
    str(FaultCode.UNTRUSTED_CERTIFICATE): N_("The signature is not that of an administration of the bus."),
    str(FaultCode.REVOKED_CERTIFICATE): N_("The administration's certificate was revoked when it signed."),
    str(FaultCode.EXPIRED_CERTIFICATE): N_("The administration's certificate was not valid when it signed."),
    str(FaultCode.SENDER_MISMATCH): N_("The signature is not that of the administration named in the file."),
    SIGNER_MISMATCH: N_("The signature is not that of the administration named in the file."),
    NOT_AN_ACKNOWLEDGEMENT: N_("This signed file is not an acknowledgement of receipt."),
}
"""What a broken rule means for a citizen; any other code: the file is not a signed acknowledgement."""
NOT_SIGNED = N_("This file is not a signed acknowledgement of receipt.")
_ISSUED = f"{HEADER_TAG}/{{urn:govbus:envelope:1}}issued"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the verification page says: ``valid``, else the broken rule (``code``) and ``reason``."""

    valid: bool
    code: str | None = None
    reason: str | None = None
    acknowledgement: Acknowledgement | None = None
    signer: str | None = None
    issued: datetime | None = None

    @property
    def explanation(self) -> str:
        """An English message id saying what the broken rule means (translated by the page)."""
        return EXPLANATIONS.get(self.code or "", NOT_SIGNED)


def payload_bytes(envelope: bytes) -> bytes:
    """The payload element of an envelope, serialised (for envelopes the portal verified already)."""
    return etree.tostring(payload_of(parse_untrusted(envelope)))


def _issued(data: bytes) -> datetime:
    issued = parse_untrusted(data).find(_ISSUED)
    try:
        return parse_timestamp(whole_text(issued) or "")
    except ValueError:
        raise Fault(FaultCode.SCHEMA_VIOLATION, "the envelope has no readable issued time") from None


def verify_acknowledgement(verifier: EnvelopeVerifier, data: bytes) -> Verdict:
    """Verify ``data`` as a signed acknowledgement of receipt; never raises for bad input."""
    if len(data) > MAX_ACKNOWLEDGEMENT_BYTES:
        return Verdict(
            False, str(FaultCode.OVERSIZED_MESSAGE), "the file is larger than an acknowledgement can be"
        )
    if not data.strip():
        return Verdict(False, str(FaultCode.MALFORMED_MESSAGE), "the file is empty")
    try:
        issued = _issued(data)
        verified = verifier.verify(data, at=issued)
    except Fault as fault:
        return Verdict(False, str(fault.code), fault.reason)
    header = verified.header
    if header.kind is not MessageKind.RESPONSE or header.service.code not in (
        DEPOSIT.code,
        REGISTER_COUNTER.code,
    ):
        return Verdict(
            False, NOT_AN_ACKNOWLEDGEMENT, f"a {header.kind} of {header.service}, not an answer to a deposit"
        )
    try:
        acknowledgement = decode(verified.payload, Acknowledgement, SCHEMA)
    except Fault as fault:
        return Verdict(
            False, NOT_AN_ACKNOWLEDGEMENT, f"the payload is not an Acknowledgement: {fault.reason}"
        )
    if acknowledgement.office != str(header.client):
        return Verdict(
            False,
            SIGNER_MISMATCH,
            f"signed by {header.client}, but the acknowledgement names {acknowledgement.office}",
        )
    return Verdict(True, acknowledgement=acknowledgement, signer=str(header.client), issued=issued)
