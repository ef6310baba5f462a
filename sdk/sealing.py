"""Sealing: the payloads of confidential services, encrypted for their recipients and opened on arrival.

Encrypt, then sign (``Node.sign``): the envelope signature covers the ciphertext, each wrapped key and the
commitment to the plaintext, so a receiver checks who sent a message before it decrypts anything, and
the message log keeps the signed envelope exactly as sent or received. Every message is also sealed for
its sender, so each party can re-open its own log records with its own encryption key.
"""

from __future__ import annotations

import copy
import dataclasses

import lxml.etree as etree

from bus.envelope import Header, MessageKind, VerifiedEnvelope
from bus.envelope.encryption import Recipient, is_sealed, open_sealed, seal
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId
from bus.pki.keyring import EncryptionKeys
from bus.registry.store import CatalogueView

SEALED_KINDS = frozenset(
    {MessageKind.REQUEST, MessageKind.RESPONSE, MessageKind.NOTIFICATION, MessageKind.RECEIPT}
)
"""The kinds whose payload a confidential service encrypts; faults carry the bus's own data only."""


class Sealing:
    """Decides which payloads are sealed, for whom, and opens them; thread-safe, no I/O until used."""

    def __init__(
        self, participant: ParticipantId, catalogue_view: CatalogueView, keys: EncryptionKeys
    ) -> None:
        self.participant = participant
        self.catalogue_view = catalogue_view
        self.keys = keys

    def confidential(self, header: Header) -> bool:
        """Whether ``header``'s payload is sealed: a request, response, notification or receipt of a
        service the catalogue marks confidential."""
        entry = self.catalogue_view.current.services.get(header.service)
        return entry is not None and entry.confidential and header.kind in SEALED_KINDS

    def seal(self, header: Header, payload: etree._Element, to: ParticipantId | None) -> etree._Element:
        """``payload`` sealed for ``header``'s recipients, or as it is when the service is not confidential.

        The recipients are the provider (a request), ``to`` (a response or receipt: the request's or
        notification's sender), or every subscriber granted the service (a notification), and always
        this participant. Raises ``Fault`` (``Client.NoEncryptionCertificate``, or the certificate's own
        fault) when one of them cannot be sealed for.
        """
        if not self.confidential(header):
            return payload
        return seal(payload, self.recipients(header, to))

    def recipients(self, header: Header, to: ParticipantId | None = None) -> list[Recipient]:
        if header.kind is MessageKind.REQUEST:
            parties = [header.service.provider]
        elif header.kind is MessageKind.NOTIFICATION:
            parties = self.catalogue_view.current.subscribers(header.service)
        elif to is not None:
            parties = [to]
        else:
            raise ValueError(f"a confidential {header.kind} needs its recipient")
        ordered = dict.fromkeys([*parties, self.participant])
        return [self.keys.recipient(party) for party in ordered]

    def open(self, verified: VerifiedEnvelope) -> VerifiedEnvelope:
        """``verified`` with its sealed payload decrypted (the signed bytes and digest unchanged).

        A confidential message must be sealed (``Client.EncryptionRequired``), for this participant, in
        govbus's profile (``Client.DisallowedAlgorithm``, ``Client.DecryptionFailed``); a message of any
        other service is returned as it is.
        """
        if not self.confidential(verified.header):
            return verified
        sealed = verified.payload
        if not is_sealed(sealed):
            raise Fault(
                FaultCode.ENCRYPTION_REQUIRED,
                f"{verified.header.service} is confidential: its {verified.header.kind} payload must be encrypted",
            )
        opened = open_sealed(sealed, str(self.participant), self.keys.own_key())
        root = copy.deepcopy(verified.root)
        body = root[1]
        body.replace(body[0], opened.payload)
        return dataclasses.replace(verified, root=root)
