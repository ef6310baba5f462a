"""What an attacker holding a genuine participant key can build: sealed payloads gone wrong, then signed.

``sealed_with`` encrypts with libxmlsec like ``bus.envelope.encryption.seal`` but with any algorithms
(AES-CBC, RSA PKCS#1 v1.5: libxmlsec itself would open them), so a refusal proves govbus's policy.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence

import lxml.etree as etree
import xmlsec

from bus.envelope import Header, MessageKind
from bus.envelope.encryption import (
    AES256_GCM,
    COMMITMENT_NS,
    DS_NS,
    RSA_OAEP,
    XENC_NS,
    Recipient,
    commitment,
    seal,
)
from bus.envelope.signer import sign_envelope
from bus.ids import ParticipantId
from sdk.contract import encode
from sdk.node import Node
from tests.sdk.echo import ECHO, PROVIDER, Ping

AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
RSA_1_5 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
X = "{" + XENC_NS + "}"
D = "{" + DS_NS + "}"


def sealed_with(
    payload: etree._Element,
    recipients: Sequence[Recipient],
    *,
    content: str = AES256_GCM,
    transport: str = RSA_OAEP,
) -> etree._Element:
    plaintext = etree.tostring(payload, method="c14n", exclusive=True)
    content_key = secrets.token_bytes(32)
    data = etree.Element(X + "EncryptedData", Type=XENC_NS + "Element", nsmap={"xenc": XENC_NS, "ds": DS_NS})
    etree.SubElement(data, X + "EncryptionMethod", Algorithm=content)
    key_info = etree.SubElement(data, D + "KeyInfo")
    manager = xmlsec.KeysManager()
    for recipient in recipients:
        wrapped = etree.SubElement(key_info, X + "EncryptedKey", Recipient=recipient.participant)
        etree.SubElement(wrapped, X + "EncryptionMethod", Algorithm=transport)
        etree.SubElement(etree.SubElement(wrapped, D + "KeyInfo"), D + "KeyName").text = recipient.participant
        etree.SubElement(etree.SubElement(wrapped, X + "CipherData"), X + "CipherValue")
        key = recipient.key.__copy__()
        key.name = recipient.participant
        manager.add_key(key)
    etree.SubElement(etree.SubElement(data, X + "CipherData"), X + "CipherValue")
    context = xmlsec.EncryptionContext(manager)
    context.key = xmlsec.Key.from_binary_data(xmlsec.constants.KeyDataAes, content_key)
    data = context.encrypt_binary(data, plaintext)
    prop = etree.SubElement(etree.SubElement(data, X + "EncryptionProperties"), X + "EncryptionProperty")
    etree.SubElement(prop, "{" + COMMITMENT_NS + "}commitment").text = commitment(content_key, plaintext)
    return data


def flip_ciphertext(data: etree._Element) -> etree._Element:
    """``data`` with one ciphertext byte changed (after the IV, before the GCM tag)."""
    value = data.find(f"{X}CipherData/{X}CipherValue")
    raw = bytearray(base64.b64decode(value.text))
    raw[14] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    return data


def request(node: Node, body: etree._Element | None = None) -> tuple[Header, bytes]:
    """A request to the echo service signed by ``node`` with ``body`` in place of its payload (default:
    the plaintext ``Ping``), bypassing the node's own sealing."""
    header = Header.new(MessageKind.REQUEST, node.participant, ECHO.service_of(PROVIDER), purpose="test")
    payload = body if body is not None else ping()
    return header, sign_envelope(header, payload, node.identity)


def ping(text: str = "death of AB123456") -> etree._Element:
    return encode(Ping(text=text), ECHO.schema)


def recipients(node: Node, *parties: str) -> list[Recipient]:
    return [node.keys.recipient(ParticipantId.parse(p)) for p in parties]


def named(recipient: Recipient, participant: str) -> Recipient:
    """``recipient``'s key presented as ``participant``'s (a payload sealed for the wrong key)."""
    return Recipient(participant, recipient.key)


__all__ = [
    "AES256_CBC",
    "RSA_1_5",
    "flip_ciphertext",
    "named",
    "ping",
    "recipients",
    "request",
    "seal",
    "sealed_with",
]
